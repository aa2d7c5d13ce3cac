-- Database roles of the service, part 1: run once as the database's administrator (on RDS,
-- the master user), connected to the service's database. docs/deploy.md, "Database roles".
--
-- healthscore_owner runs the migrations (DDL) and owns the service's tables;
-- healthscore_app is the runtime's role: data access only, no DDL.
-- CONNECTION LIMIT is the database's own cap on each role's connections (see the budget).
-- Set the passwords afterwards with psql's \password, never in a file.
CREATE ROLE healthscore_owner LOGIN CONNECTION LIMIT 3;
CREATE ROLE healthscore_app LOGIN CONNECTION LIMIT 40;

-- PostgreSQL 15 and later no longer let every user create objects in `public`.
GRANT USAGE, CREATE ON SCHEMA public TO healthscore_owner;
GRANT USAGE ON SCHEMA public TO healthscore_app;

-- Behind RDS Proxy the connections cannot carry their own statement_timeout (the proxy refuses
-- startup options, and a SET would pin each client to one database connection): the login role's
-- setting applies instead. So each function logs in as its own role, a member of healthscore_app
-- (its privileges, inherited), whose statement_timeout is the template's DB_STATEMENT_TIMEOUT_MS
-- for that function (tests/unit/test_template.py checks they agree). Each gets its own secret
-- (ApiDbSecretArn, ScorerDbSecretArn, FanoutDbSecretArn). healthscore_app stays a login role for a
-- deployment without them, at the fan-out's 30 s.
ALTER ROLE healthscore_app SET statement_timeout = '30s';
CREATE ROLE healthscore_api LOGIN CONNECTION LIMIT 10 IN ROLE healthscore_app;
ALTER ROLE healthscore_api SET statement_timeout = '5s';
CREATE ROLE healthscore_scorer LOGIN CONNECTION LIMIT 10 IN ROLE healthscore_app;
ALTER ROLE healthscore_scorer SET statement_timeout = '5s';
CREATE ROLE healthscore_fanout LOGIN CONNECTION LIMIT 2 IN ROLE healthscore_app;
ALTER ROLE healthscore_fanout SET statement_timeout = '30s';
