-- Outgoing mail (replies and notifications) from `ticket_message.reply_requested`: one row per
-- ticket message, however often the event is delivered, and every sending attempt.
CREATE TABLE outbound_messages (
    id                  uuid PRIMARY KEY,
    ticket_message_id   uuid NOT NULL UNIQUE,
    ticket_id           uuid NOT NULL,
    ticket_number       bigint NOT NULL,
    kind                smallint NOT NULL,
    mail_account_id     uuid,
    from_address        text NOT NULL,
    to_addresses        text[] NOT NULL,
    cc_addresses        text[] NOT NULL,
    subject             text NOT NULL,
    mail_message_id     text NOT NULL,
    request             bytea NOT NULL,   -- the TicketReplyRequested event, encoded
    size_bytes          bigint NOT NULL DEFAULT 0,
    state               smallint NOT NULL,  -- OutboundState: 1 queued, 2 sent, 3 failed
    attempt_count       integer NOT NULL DEFAULT 0,
    last_error          text NOT NULL DEFAULT '',
    create_time         timestamptz NOT NULL,
    -- Temporary failures are retried until then (24 hours after it was queued or retried).
    give_up_time        timestamptz NOT NULL,
    last_attempt_time   timestamptz,
    -- Queued: when the next attempt is due; while one is under way, until when its sender
    -- holds it (another replica takes it over after).
    next_attempt_time   timestamptz,
    send_time           timestamptz,
    -- Bumped by every state change: the aggregate version of mail.sent / mail.failed.
    version             bigint NOT NULL DEFAULT 1
);
CREATE INDEX outbound_due ON outbound_messages (next_attempt_time) WHERE state = 1;
CREATE INDEX outbound_by_time ON outbound_messages (create_time DESC, id DESC);
CREATE INDEX outbound_by_ticket ON outbound_messages (ticket_id, create_time DESC);

CREATE TABLE outbound_attempts (
    outbound_id   uuid NOT NULL REFERENCES outbound_messages (id),
    attempt       integer NOT NULL,
    attempt_time  timestamptz NOT NULL,
    ok            boolean NOT NULL,
    response      text NOT NULL,     -- the SMTP reply, or the error
    PRIMARY KEY (outbound_id, attempt)
);

-- Automatic mail (notifications) recently sent to an address, for the throttle that stops a
-- loop with an auto-responder.
CREATE INDEX outbound_notifications_to ON outbound_messages USING gin (to_addresses)
    WHERE kind = 4;
