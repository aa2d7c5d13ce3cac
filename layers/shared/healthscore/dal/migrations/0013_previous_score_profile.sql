-- Trend like with like (docs/scoring.md, "One model across time"): previous_score is the previous
-- stored score restated under the new score's profile version (what its trend and risk compared
-- with); these keep that previous score as it was computed and shown, and the profile version that
-- computed it.
ALTER TABLE tenant_health_scores
    ADD COLUMN previous_score_as_computed integer,
    ADD COLUMN previous_profile_id text,
    ADD COLUMN previous_profile_version integer;
ALTER TABLE tenant_latest_scores
    ADD COLUMN previous_score_as_computed integer,
    ADD COLUMN previous_profile_id text,
    ADD COLUMN previous_profile_version integer;

-- Scores stored before: their previous score was compared as computed.
UPDATE tenant_health_scores s
SET previous_score_as_computed = p.overall_score, previous_profile_id = p.profile_id,
    previous_profile_version = p.profile_version
FROM tenant_health_scores p
WHERE s.previous_score IS NOT NULL AND p.organization_id = s.organization_id
  AND p.score_date = (SELECT max(b.score_date) FROM tenant_health_scores b
                      WHERE b.organization_id = s.organization_id AND b.score_date < s.score_date);
UPDATE tenant_latest_scores l
SET previous_score_as_computed = s.previous_score_as_computed, previous_profile_id = s.previous_profile_id,
    previous_profile_version = s.previous_profile_version
FROM tenant_health_scores s
WHERE s.organization_id = l.organization_id AND s.score_date = l.score_date AND s.previous_score IS NOT NULL;
