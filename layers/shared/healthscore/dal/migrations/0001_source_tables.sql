-- Source data (DESIGN.md section 2). In production these tables belong to the
-- platform's database; a deployment that already has them skips this file.
-- Every per-tenant read is an index range scan on (organization_id, <window column>).

CREATE TABLE IF NOT EXISTS organizations (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    status text NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED', 'CHURNED')),
    tracks_support_tickets boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Fan-out lists ACTIVE tenants by keyset pagination on id.
CREATE INDEX IF NOT EXISTS organizations_status_id_idx ON organizations (status, id);

CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    email text NOT NULL,
    last_login_at timestamptz
);
CREATE INDEX IF NOT EXISTS users_organization_login_idx ON users (organization_id, last_login_at);

CREATE TABLE IF NOT EXISTS cases (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    created_at timestamptz NOT NULL,
    closed_at timestamptz,
    sla_breach_at timestamptz
);
CREATE INDEX IF NOT EXISTS cases_organization_closed_idx ON cases (organization_id, closed_at);

CREATE TABLE IF NOT EXISTS campaigns (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    completed_at timestamptz,
    total_assignments integer NOT NULL DEFAULT 0,
    completed_assignments integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS campaigns_organization_completed_idx ON campaigns (organization_id, completed_at);

CREATE TABLE IF NOT EXISTS organization_features (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    feature_key text NOT NULL,
    enabled boolean NOT NULL DEFAULT false,
    is_used boolean NOT NULL DEFAULT false,
    last_used_at timestamptz,
    PRIMARY KEY (organization_id, feature_key)
);

CREATE TABLE IF NOT EXISTS support_tickets (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS support_tickets_organization_created_idx ON support_tickets (organization_id, created_at);
