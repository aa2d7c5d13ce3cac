-- The fan-out's ledger of the tenants it has put on the queue for a run, so that a retry of
-- the same run (same job and asOf: Lambda's async retries, a scheduler retry, an operator's
-- re-run) enqueues only the tenants still missing. Rows of a run are deleted once its
-- enqueue is complete (scoring_runs.enqueued_at), which then short-circuits any re-run.
CREATE TABLE run_enqueued_tenants (
    run_id text NOT NULL,
    organization_id uuid NOT NULL,
    PRIMARY KEY (run_id, organization_id)
);
