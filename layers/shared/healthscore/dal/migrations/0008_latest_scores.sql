-- Each tenant's latest score, kept current in the transaction that writes tenant_health_scores
-- (only when its score_date is the newest), so that GET /scores and GET /summary read one row
-- per tenant through an index instead of looking up every tenant's latest score.
CREATE TABLE tenant_latest_scores (
    organization_id uuid PRIMARY KEY,
    organization_name text NOT NULL,  -- as of the score (the list sorts on it)
    score_date date NOT NULL,
    overall_score integer NOT NULL,
    login_score integer,
    case_resolution_score integer,
    campaign_completion_score integer,
    feature_adoption_score integer,
    support_ticket_score integer,
    previous_score integer,
    previous_risk_level text,  -- the previous score's risk (GET /summary's newlyHighRisk)
    trend text NOT NULL,
    risk_level text NOT NULL,  -- the formula's
    calculated_at timestamptz NOT NULL,
    profile_id text NOT NULL,
    profile_version integer NOT NULL,
    -- The tenant's uncleared override when the row was last written; it applies while
    -- override_expires_at > now(), which queries check (a lapse needs no write).
    override_id bigint,
    override_risk_level text,
    override_expires_at timestamptz,
    -- The override's level where there is one, else risk_level: the effective risk until the
    -- override lapses (rows past override_expires_at are few and read through their own index).
    effective_risk_level text NOT NULL,
    changed_at timestamptz NOT NULL  -- last write of the row: a cursor's snapshot re-reads rows changed after it
);
-- One index per sort (keyset: sort column, organization id), and per sort under the risk filter.
CREATE INDEX tenant_latest_scores_overall_idx ON tenant_latest_scores (overall_score, organization_id);
CREATE INDEX tenant_latest_scores_name_idx ON tenant_latest_scores (organization_name, organization_id);
CREATE INDEX tenant_latest_scores_calculated_idx ON tenant_latest_scores (calculated_at, organization_id);
CREATE INDEX tenant_latest_scores_risk_overall_idx
    ON tenant_latest_scores (effective_risk_level, overall_score, organization_id);
CREATE INDEX tenant_latest_scores_risk_name_idx
    ON tenant_latest_scores (effective_risk_level, organization_name, organization_id);
CREATE INDEX tenant_latest_scores_risk_calculated_idx
    ON tenant_latest_scores (effective_risk_level, calculated_at, organization_id);
CREATE INDEX tenant_latest_scores_trend_overall_idx ON tenant_latest_scores (trend, overall_score, organization_id);
CREATE INDEX tenant_latest_scores_override_idx ON tenant_latest_scores (override_expires_at)
    WHERE override_expires_at IS NOT NULL;
CREATE INDEX tenant_latest_scores_changed_idx ON tenant_latest_scores (changed_at);

-- GET /summary's counts, kept current by a trigger: tenants and the sum of their overall scores
-- per (effective risk, trend), so that the summary reads 9 rows instead of every tenant's. A
-- lapsed override is corrected for at read time (rows past override_expires_at, a small index).
CREATE TABLE tenant_score_counts (
    effective_risk_level text NOT NULL,
    trend text NOT NULL,
    tenants bigint NOT NULL DEFAULT 0,
    score_sum bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (effective_risk_level, trend)
);
INSERT INTO tenant_score_counts (effective_risk_level, trend)
SELECT r, t FROM unnest(ARRAY['LOW', 'MEDIUM', 'HIGH']) r, unnest(ARRAY['IMPROVING', 'STABLE', 'DECLINING']) t;

-- Add a statement's net change per (effective risk, trend). The counter rows are locked in key
-- order first, so that concurrent scorer batches wait for each other instead of deadlocking.
CREATE FUNCTION tenant_score_counts_add(deltas tenant_score_counts[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tenant_score_counts c
    JOIN unnest(deltas) d ON d.effective_risk_level = c.effective_risk_level AND d.trend = c.trend
    WHERE d.tenants <> 0 OR d.score_sum <> 0
    ORDER BY c.effective_risk_level, c.trend
    FOR UPDATE OF c;
    UPDATE tenant_score_counts c
    SET tenants = c.tenants + d.tenants, score_sum = c.score_sum + d.score_sum
    FROM unnest(deltas) d
    WHERE d.effective_risk_level = c.effective_risk_level AND d.trend = c.trend
      AND (d.tenants <> 0 OR d.score_sum <> 0);
END
$$;

CREATE FUNCTION tenant_score_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM tenant_score_counts_add(ARRAY(
            SELECT ROW(effective_risk_level, trend, count(*), sum(overall_score))::tenant_score_counts
            FROM new_rows GROUP BY effective_risk_level, trend));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM tenant_score_counts_add(ARRAY(
            SELECT ROW(effective_risk_level, trend, sum(n), sum(s))::tenant_score_counts
            FROM (
                SELECT effective_risk_level, trend, 1 AS n, overall_score AS s FROM new_rows
                UNION ALL
                SELECT effective_risk_level, trend, -1, -overall_score FROM old_rows
            ) x GROUP BY effective_risk_level, trend));
    ELSE
        PERFORM tenant_score_counts_add(ARRAY(
            SELECT ROW(effective_risk_level, trend, -count(*), -sum(overall_score))::tenant_score_counts
            FROM old_rows GROUP BY effective_risk_level, trend));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tenant_score_counts_insert AFTER INSERT ON tenant_latest_scores
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenant_score_counts_apply();
CREATE TRIGGER tenant_score_counts_update AFTER UPDATE ON tenant_latest_scores
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_score_counts_apply();
CREATE TRIGGER tenant_score_counts_delete AFTER DELETE ON tenant_latest_scores
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tenant_score_counts_apply();

-- Backfill from the scores already stored (organizations is the platform's table: a database
-- without scores yet, where it may not exist, has nothing to backfill).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM tenant_health_scores) THEN
    INSERT INTO tenant_latest_scores
    SELECT DISTINCT ON (s.organization_id)
           s.organization_id, o.name, s.score_date, s.overall_score, s.login_score, s.case_resolution_score,
           s.campaign_completion_score, s.feature_adoption_score, s.support_ticket_score, s.previous_score,
           (SELECT p.risk_level FROM tenant_health_scores p
            WHERE p.organization_id = s.organization_id AND p.score_date < s.score_date
            ORDER BY p.score_date DESC LIMIT 1),
           s.trend, s.risk_level, s.calculated_at, s.profile_id, s.profile_version,
           v.override_id, v.risk_level, v.expires_at, coalesce(v.risk_level, s.risk_level), s.calculated_at
    FROM tenant_health_scores s
    JOIN organizations o ON o.id = s.organization_id
    LEFT JOIN LATERAL (
        SELECT r.override_id, r.risk_level, r.expires_at FROM risk_overrides r
        WHERE r.organization_id = s.organization_id AND r.cleared_at IS NULL AND r.expires_at > now()
        ORDER BY r.set_at DESC LIMIT 1
    ) v ON true
    ORDER BY s.organization_id, s.score_date DESC;
  END IF;
END
$$;
