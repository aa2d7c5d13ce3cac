-- The transactional outbox of HealthRiskChanged events. Each event is written in the transaction of
-- the change it announces (a scoring batch's statement, an override set or cleared), then published
-- to EventBridge after the commit, in `position` order, and marked published: an EventBridge that is
-- down loses nothing, later batches and the scheduled sweep publish what is left. `event_id` is the
-- event's stable id (the detail's eventId): every attempt to publish it carries the same one, so a
-- consumer drops the duplicates that a crash between PutEvents and the commit can make.
CREATE TABLE risk_event_outbox (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    detail jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

-- What is left to publish, oldest first: small, whatever the history's size.
CREATE INDEX risk_event_outbox_unpublished ON risk_event_outbox (position) WHERE published_at IS NULL;
