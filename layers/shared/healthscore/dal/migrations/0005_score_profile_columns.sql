-- Which scoring profile, and which immutable version of it, produced each score (DESIGN.md
-- section 11). Scores written before profiles existed were the default profile's version 1.
ALTER TABLE tenant_health_scores
    ADD COLUMN profile_id text NOT NULL DEFAULT 'default',
    ADD COLUMN profile_version integer NOT NULL DEFAULT 1;
