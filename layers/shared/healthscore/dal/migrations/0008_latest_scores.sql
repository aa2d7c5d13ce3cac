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
