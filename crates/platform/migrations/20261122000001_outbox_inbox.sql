-- The transactional outbox: events written in the same transaction as the change they announce,
-- published to RabbitMQ by the relay and deleted once the broker confirmed them.
CREATE TABLE outbox (
    seq         bigserial   PRIMARY KEY,
    event_id    uuid        NOT NULL UNIQUE,
    routing_key text        NOT NULL,
    envelope    bytea       NOT NULL,
    traceparent text        NOT NULL DEFAULT '',
    tracestate  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Wakes the relays of this schema as soon as a transaction adds events (polling is the fallback).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('switchboard_outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- The inbox: one row per (consumer, event) applied, written in the same transaction as the
-- event's effect, so a redelivered event is recognised and its effect never applied twice.
CREATE TABLE inbox (
    consumer   text        NOT NULL,
    event_id   uuid        NOT NULL,
    event_type text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
