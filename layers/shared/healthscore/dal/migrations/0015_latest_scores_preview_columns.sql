-- What the what-if preview reads, one row per tenant (dal/profile_preview.py): the latest score's as-of
-- and total users (which profile's segment the tenant is in) and the previous score's components
-- (what it restates under a candidate), kept on the latest row by the statement that writes it.
ALTER TABLE tenant_latest_scores
    ADD COLUMN as_of timestamptz,
    ADD COLUMN total_users integer,
    ADD COLUMN previous_login_score integer,
    ADD COLUMN previous_case_resolution_score integer,
    ADD COLUMN previous_campaign_completion_score integer,
    ADD COLUMN previous_feature_adoption_score integer,
    ADD COLUMN previous_support_ticket_score integer;

UPDATE tenant_latest_scores l
SET as_of = s.as_of, total_users = (s.inputs->>'totalUsers')::int, previous_login_score = p.login_score,
    previous_case_resolution_score = p.case_resolution_score,
    previous_campaign_completion_score = p.campaign_completion_score,
    previous_feature_adoption_score = p.feature_adoption_score,
    previous_support_ticket_score = p.support_ticket_score
FROM tenant_health_scores s
LEFT JOIN LATERAL (
    SELECT b.* FROM tenant_health_scores b
    WHERE b.organization_id = s.organization_id AND b.score_date < s.score_date
    ORDER BY b.score_date DESC LIMIT 1
) p ON true
WHERE s.organization_id = l.organization_id AND s.score_date = l.score_date;
