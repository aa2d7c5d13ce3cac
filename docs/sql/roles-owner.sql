-- Database roles of the service, part 2: run once as healthscore_owner, before the first
-- migration. The tables it creates from now on grant the runtime role data access, and
-- nothing more: healthscore_app can neither create, alter nor drop them.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO healthscore_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO healthscore_app;
