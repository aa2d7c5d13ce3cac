-- Restated history (docs/scoring.md, "One model across time"): a tenant's stored days re-scored
-- under one profile version, beside the as-computed scores (never changed: they are what CSMs saw
-- and acted on). A later restatement of a day replaces its row.
CREATE TABLE tenant_restated_scores (
    organization_id uuid NOT NULL,
    score_date date NOT NULL,
    overall_score integer NOT NULL,
    previous_score integer,  -- the restated previous day's, what the trend compared with
    trend text NOT NULL,
    risk_level text NOT NULL,
    profile_id text NOT NULL,
    profile_version integer NOT NULL,
    run_id text NOT NULL,
    restated_at timestamptz NOT NULL,
    PRIMARY KEY (organization_id, score_date)
);

-- A restatement is a run too (GET /runs/{runId}), of its own job.
ALTER TABLE scoring_runs DROP CONSTRAINT scoring_runs_job_check;
ALTER TABLE scoring_runs ADD CONSTRAINT scoring_runs_job_check
    CHECK (job IN ('calculate-scores', 'record-metrics', 'restate'));
