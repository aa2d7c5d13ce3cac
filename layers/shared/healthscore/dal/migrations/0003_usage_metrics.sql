-- Daily usage metrics per tenant (DESIGN.md section 3). Rates are fractions 0..1.
CREATE TABLE usage_metrics (
    organization_id uuid NOT NULL,
    metric_type text NOT NULL CHECK (metric_type IN (
        'LOGIN_RATE', 'ACTIVE_USERS', 'TOTAL_USERS', 'CASES_CLOSED', 'CASE_ON_TIME_RATE',
        'CAMPAIGNS_COMPLETED', 'CAMPAIGN_COMPLETION_RATE', 'FEATURE_ADOPTION_RATE', 'SUPPORT_TICKETS'
    )),
    metric_date date NOT NULL,
    value numeric NOT NULL,
    previous_value numeric,
    change_pct numeric,
    run_id text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, metric_type, metric_date)
);
