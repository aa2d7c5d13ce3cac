-- Each tenant's exact usage inputs of its day, kept by record-metrics (docs/scoring.md):
-- users.last_login_at and the organization_features flags hold only their current value,
-- so a calculate-score replayed days later reads login and feature adoption from here.
-- One row per tenant and UTC day; the first on-time record of a day is the day's truth.
CREATE TABLE tenant_daily_inputs (
    organization_id uuid NOT NULL,
    input_date date NOT NULL,
    total_users integer NOT NULL CHECK (total_users >= 0),
    active_users integer NOT NULL CHECK (active_users BETWEEN 0 AND total_users),
    features_enabled integer NOT NULL CHECK (features_enabled >= 0),
    features_used integer NOT NULL CHECK (features_used BETWEEN 0 AND features_enabled),
    as_of timestamptz NOT NULL,  -- the end of the window the inputs were read over
    run_id text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, input_date)
);
