-- The CTI's dial requests (WatchConnectRequests), written in the same transaction as the
-- attempt by ConnectCallback. `seq` is the stream's cursor. A row is claimed by one stream
-- (`claimed_by`, until `claimed_until`), remembered as sent to `delivered_to` (the key), and
-- settled (`settle_time`) by the attempt's outcome or by that key's cursor.
CREATE TABLE connect_requests (
    seq            bigserial PRIMARY KEY,
    attempt_id     uuid NOT NULL UNIQUE REFERENCES callback_attempts (id),
    callback_id    uuid NOT NULL,
    attempt_number integer NOT NULL,
    phone_number   text NOT NULL,
    agent_login    text NOT NULL,
    request_time   timestamptz NOT NULL,
    delivered_to   text,
    claimed_by     uuid,
    claimed_until  timestamptz,
    settle_time    timestamptz
);

CREATE INDEX connect_requests_unsettled ON connect_requests (seq) WHERE settle_time IS NULL;

-- Wakes the watching streams; the channel is per schema, so services sharing a database (and
-- tests) do not wake each other.
CREATE FUNCTION notify_connect_request() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.connect_requests', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER connect_requests_notify AFTER INSERT ON connect_requests
    FOR EACH STATEMENT EXECUTE FUNCTION notify_connect_request();
