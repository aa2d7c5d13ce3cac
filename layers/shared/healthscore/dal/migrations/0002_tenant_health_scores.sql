-- Results owned by this service (DESIGN.md section 3): one score per tenant per UTC day.
CREATE TABLE tenant_health_scores (
    organization_id uuid NOT NULL,
    score_date date NOT NULL,
    overall_score integer NOT NULL CHECK (overall_score BETWEEN 0 AND 100),
    login_score integer CHECK (login_score BETWEEN 0 AND 100),
    case_resolution_score integer CHECK (case_resolution_score BETWEEN 0 AND 100),
    campaign_completion_score integer CHECK (campaign_completion_score BETWEEN 0 AND 100),
    feature_adoption_score integer CHECK (feature_adoption_score BETWEEN 0 AND 100),
    support_ticket_score integer CHECK (support_ticket_score BETWEEN 0 AND 100),
    previous_score integer,
    trend text NOT NULL CHECK (trend IN ('IMPROVING', 'STABLE', 'DECLINING')),
    risk_level text NOT NULL CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH')),
    run_id text NOT NULL,
    as_of timestamptz NOT NULL,
    calculated_at timestamptz NOT NULL DEFAULT now(),
    -- What explains the score: the weights used, the raw inputs, each component's
    -- contribution in points and the components that had no data.
    weights jsonb NOT NULL,
    inputs jsonb NOT NULL,
    explanation jsonb NOT NULL,
    PRIMARY KEY (organization_id, score_date)
);
-- Run progress counts a run's scores.
CREATE INDEX tenant_health_scores_run_idx ON tenant_health_scores (run_id);
