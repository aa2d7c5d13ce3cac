-- Manual risk overrides (a CSM's judgement, with a reason and an expiry): every override ever
-- set is kept, newest last; an override applies while it is not cleared and now() < expires_at,
-- so expiry needs no job.
CREATE TABLE risk_overrides (
    override_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL,
    risk_level text NOT NULL CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH')),
    reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
    set_by text NOT NULL,
    set_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > set_at),
    cleared_at timestamptz,
    cleared_by text,
    CHECK ((cleared_at IS NULL) = (cleared_by IS NULL))
);
-- A tenant's history newest first; its active override is the newest uncleared one not yet
-- expired (writers serialize per tenant with an advisory lock; a lapsed one stays uncleared).
CREATE INDEX risk_overrides_organization_idx ON risk_overrides (organization_id, set_at DESC);
