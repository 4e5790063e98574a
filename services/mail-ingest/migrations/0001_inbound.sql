-- mail-ingest's tables: the receiving accounts as the ticket service announces them, and every
-- customer message as it was received (e-mail, help-center inquiry, channel message), stored
-- before anything else is done with it.

-- The receiving accounts, from `mail_account.changed` / `.deleted` (the ticket service owns
-- them). `version` is the event's aggregate version: an older announcement arriving late is
-- ignored.
CREATE TABLE mail_accounts (
    id          uuid PRIMARY KEY,
    address     text NOT NULL,          -- lower case
    active      boolean NOT NULL,
    deleted     boolean NOT NULL DEFAULT false,
    account     bytea NOT NULL,         -- switchboard.ticket.v1.MailAccount, encoded
    version     bigint NOT NULL,
    update_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_accounts_by_address ON mail_accounts (address) WHERE NOT deleted;

-- One row per customer message however often it is submitted (`dedup_key`, as the ticket
-- service gets it). `raw` is the mail's bytes as received, or the submitted request (help
-- center, channel) encoded. State: 1 received (stored, not yet in a ticket), 2 ingested,
-- 3 quarantined.
CREATE TABLE inbound_messages (
    id                  uuid PRIMARY KEY,
    kind                smallint NOT NULL,      -- 1 e-mail, 2 help-center inquiry, 3 channel message
    dedup_key           text NOT NULL UNIQUE,
    mail_account_id     uuid,
    raw                 bytea NOT NULL,
    raw_sha256          bytea NOT NULL,
    envelope_sender     text,                   -- NULL: not given; '': the null sender <>
    envelope_recipients text[] NOT NULL DEFAULT '{}',
    arrival             smallint NOT NULL DEFAULT 0,
    receive_time        timestamptz NOT NULL,
    state               smallint NOT NULL,
    quarantine_reason   text NOT NULL DEFAULT '',
    raw_subject         text NOT NULL DEFAULT '',
    raw_from            text NOT NULL DEFAULT '',
    mail_message_id     text NOT NULL DEFAULT '',
    automation          smallint NOT NULL DEFAULT 0,
    outcome             smallint NOT NULL DEFAULT 0,
    ticket_id           uuid,
    ticket_number       bigint,
    ticket_message_id   uuid,
    create_time         timestamptz NOT NULL DEFAULT now(),
    update_time         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_quarantined ON inbound_messages (receive_time DESC, id) WHERE state = 3;
CREATE INDEX inbound_received ON inbound_messages (create_time) WHERE state = 1;
-- A mail by its Message-ID: whether a notification would answer automated mail.
CREATE INDEX inbound_by_message_id ON inbound_messages (mail_message_id) WHERE kind = 1;
