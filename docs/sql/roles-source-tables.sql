-- Database roles of the service, part 3, on the platform's database only: run by the owner
-- of the source tables, which the service reads and never writes.
GRANT SELECT ON organizations, users, cases, campaigns, organization_features, support_tickets TO healthscore_app;
