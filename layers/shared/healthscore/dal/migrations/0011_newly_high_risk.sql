-- GET /summary's newlyHighRisk and GET /scores?newlyHighRisk=true at the cost of a page, not of
-- the fleet. A row is "newly high" while its effective risk is HIGH and its previous score's risk
-- was another level (a first score has no previous level: not newly high).

-- How many rows are newly high per (effective risk, trend), kept by the trigger like the other
-- counters (only the HIGH rows can be non-zero); a lapsed override is corrected for at read time.
ALTER TABLE tenant_score_counts ADD COLUMN newly_high bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION tenant_score_counts_add(deltas tenant_score_counts[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tenant_score_counts c
    JOIN unnest(deltas) d ON d.effective_risk_level = c.effective_risk_level AND d.trend = c.trend
    WHERE d.tenants <> 0 OR d.score_sum <> 0 OR d.newly_high <> 0
    ORDER BY c.effective_risk_level, c.trend
    FOR UPDATE OF c;
    UPDATE tenant_score_counts c
    SET tenants = c.tenants + d.tenants, score_sum = c.score_sum + d.score_sum, newly_high = c.newly_high + d.newly_high
    FROM unnest(deltas) d
    WHERE d.effective_risk_level = c.effective_risk_level AND d.trend = c.trend
      AND (d.tenants <> 0 OR d.score_sum <> 0 OR d.newly_high <> 0);
END
$$;

CREATE OR REPLACE FUNCTION tenant_score_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM tenant_score_counts_add(ARRAY(
            SELECT ROW(effective_risk_level, trend, count(*), sum(overall_score),
                       count(*) FILTER (WHERE effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH')
                   )::tenant_score_counts
            FROM new_rows GROUP BY effective_risk_level, trend));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM tenant_score_counts_add(ARRAY(
            SELECT ROW(effective_risk_level, trend, sum(n), sum(s), sum(h))::tenant_score_counts
            FROM (
                SELECT effective_risk_level, trend, 1 AS n, overall_score AS s,
                       coalesce(effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH', false)::int AS h
                FROM new_rows
                UNION ALL
                SELECT effective_risk_level, trend, -1, -overall_score,
                       -coalesce(effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH', false)::int
                FROM old_rows
            ) x GROUP BY effective_risk_level, trend));
    ELSE
        PERFORM tenant_score_counts_add(ARRAY(
            SELECT ROW(effective_risk_level, trend, -count(*), -sum(overall_score),
                       -count(*) FILTER (WHERE effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH')
                   )::tenant_score_counts
            FROM old_rows GROUP BY effective_risk_level, trend));
    END IF;
    RETURN NULL;
END
$$;

UPDATE tenant_score_counts c SET newly_high = x.n
FROM (
    SELECT effective_risk_level, trend, count(*) AS n FROM tenant_latest_scores
    WHERE effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH'
    GROUP BY effective_risk_level, trend
) x
WHERE x.effective_risk_level = c.effective_risk_level AND x.trend = c.trend;

-- The newly high rows in each sort's keyset order: a page (or the summary's most urgent) reads
-- its rows and stops. Rows whose override has lapsed are read through the override index. The
-- constant leading column is the risk indexes' own: with it the planner costs these (smaller)
-- indexes below the risk indexes, which would serve the same query reading every HIGH row.
CREATE INDEX tenant_latest_scores_newly_high_overall_idx
    ON tenant_latest_scores (effective_risk_level, overall_score, organization_id)
    WHERE effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH';
CREATE INDEX tenant_latest_scores_newly_high_name_idx
    ON tenant_latest_scores (effective_risk_level, organization_name, organization_id)
    WHERE effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH';
CREATE INDEX tenant_latest_scores_newly_high_calculated_idx
    ON tenant_latest_scores (effective_risk_level, calculated_at, organization_id)
    WHERE effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH';

-- Most tenants' previous level is not HIGH, but most HIGH tenants were HIGH before: without the
-- two columns' joint statistics the planner takes nearly every HIGH row for newly high and reads
-- the risk index instead of the (much smaller) partial one.
CREATE STATISTICS tenant_latest_scores_risk_previous_stats (mcv)
    ON effective_risk_level, previous_risk_level FROM tenant_latest_scores;
ANALYZE tenant_latest_scores;
