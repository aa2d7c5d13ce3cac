-- One row per fan-out, and one outcome row per tenant of a run: progress is counted
-- from these, never from a counter row that every scorer would update.
CREATE TABLE scoring_runs (
    run_id text PRIMARY KEY,
    job text NOT NULL CHECK (job IN ('calculate-scores', 'record-metrics')),
    as_of timestamptz NOT NULL,
    tenant_count integer,
    started_at timestamptz NOT NULL DEFAULT now(),
    enqueued_at timestamptz
);

CREATE TABLE run_tenant_outcomes (
    run_id text NOT NULL,
    organization_id uuid NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('scored', 'recorded', 'skipped', 'failed')),
    reason text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, organization_id)
);
