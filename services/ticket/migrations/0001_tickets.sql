-- Tickets (티켓 관리), owned by the ticket service. Statuses, channels, priorities and kinds are
-- stored as their proto enum numbers, mapped in one place in the code.

-- Ticket numbers: sequential across the center, never reused (a rolled-back create leaves a gap).
CREATE SEQUENCE ticket_numbers;

CREATE TABLE tickets (
    id                          uuid PRIMARY KEY,
    number                      bigint NOT NULL UNIQUE,
    subject                     text NOT NULL,
    status                      smallint NOT NULL CHECK (status BETWEEN 1 AND 6),
    group_id                    uuid,
    group_name                  text NOT NULL DEFAULT '',
    assignee_login              text,
    assignee_name               text NOT NULL DEFAULT '',
    channel                     smallint NOT NULL CHECK (channel BETWEEN 1 AND 5),
    external_channel            text NOT NULL DEFAULT '',
    external_thread_key         text NOT NULL DEFAULT '',
    requester_name              text NOT NULL DEFAULT '',
    requester_email             text NOT NULL DEFAULT '',
    requester_phone             text NOT NULL DEFAULT '',
    requester_external_id       text NOT NULL DEFAULT '',
    mail_account_id             uuid,
    inquiry_type_id             uuid,
    processing_type_id          uuid,
    priority                    smallint NOT NULL CHECK (priority BETWEEN 1 AND 4),
    tags                        text[] NOT NULL DEFAULT '{}',
    customer_fields             jsonb NOT NULL DEFAULT '{}',
    create_time                 timestamptz NOT NULL,
    update_time                 timestamptz NOT NULL,
    solve_time                  timestamptz,
    close_time                  timestamptz,
    first_reply_time            timestamptz,
    auto_close_time             timestamptz,
    linked_ticket_id            uuid,
    linked_ticket_number        bigint NOT NULL DEFAULT 0,
    resolution_reason           smallint NOT NULL DEFAULT 0,
    resolution_note             text NOT NULL DEFAULT '',
    status_before_spam          smallint NOT NULL DEFAULT 0,
    last_customer_message_time  timestamptz,
    message_count               integer NOT NULL DEFAULT 0,
    version                     bigint NOT NULL,
    -- An assignee exactly where the status has one (unassigned never; in progress always).
    CHECK (status <> 1 OR assignee_login IS NULL),
    CHECK (status <> 2 OR assignee_login IS NOT NULL),
    CHECK ((status = 4) = (auto_close_time IS NOT NULL))
);

-- The requester's previous inquiries (문의내역): e-mail case-insensitively, else phone, else the
-- external user id on the same channel.
CREATE INDEX tickets_by_requester_email ON tickets (lower(requester_email), create_time DESC)
    WHERE requester_email <> '';
CREATE INDEX tickets_by_requester_phone ON tickets (requester_phone, create_time DESC)
    WHERE requester_phone <> '';
CREATE INDEX tickets_by_requester_external ON tickets (external_channel, requester_external_id)
    WHERE requester_external_id <> '';
-- Threading of external-channel messages.
CREATE INDEX tickets_by_thread ON tickets (external_channel, external_thread_key, create_time DESC)
    WHERE external_thread_key <> '';
-- The auto-close scheduler's due tickets.
CREATE INDEX tickets_auto_close_due ON tickets (auto_close_time) WHERE status = 4;

-- The conversation. Each message is its encoded `TicketMessage` (written once, never edited);
-- the columns are what is looked up, and the delivery state, the one thing reported later.
CREATE TABLE messages (
    id               uuid PRIMARY KEY,
    ticket_id        uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    seq              bigint GENERATED ALWAYS AS IDENTITY,
    kind             smallint NOT NULL CHECK (kind BETWEEN 1 AND 4),
    create_time      timestamptz NOT NULL,
    -- Customer messages: the ingest's idempotency key.
    dedup_key        text,
    -- E-mail received or sent: its Message-ID (threading by In-Reply-To / References).
    mail_message_id  text,
    delivery_state   smallint NOT NULL DEFAULT 0,
    delivery_error   text NOT NULL DEFAULT '',
    message          bytea NOT NULL
);
CREATE INDEX messages_of_ticket ON messages (ticket_id, seq);
CREATE UNIQUE INDEX messages_by_dedup_key ON messages (dedup_key) WHERE dedup_key IS NOT NULL;
CREATE UNIQUE INDEX messages_by_mail_message_id ON messages (mail_message_id)
    WHERE mail_message_id IS NOT NULL;

-- The history (이벤트 탭): one encoded `TicketEvent` per change, in the change's transaction.
CREATE TABLE ticket_history (
    id         uuid PRIMARY KEY,
    ticket_id  uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    entry      bytea NOT NULL
);
CREATE INDEX ticket_history_of_ticket ON ticket_history (ticket_id, seq);

-- File contents, once per SHA-256 however many uploads and attachments share them.
CREATE TABLE blobs (
    sha256      bytea PRIMARY KEY,
    size_bytes  bigint NOT NULL,
    content     bytea NOT NULL
);

-- Uploads waiting to be attached (kept 24 hours for their uploader).
CREATE TABLE uploads (
    id            uuid PRIMARY KEY,
    uploader      text NOT NULL,
    file_name     text NOT NULL,
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL,
    sha256        bytea NOT NULL REFERENCES blobs (sha256),
    create_time   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_by_time ON uploads (create_time);

-- Attachments of messages. `download_ref` is the attachment's id; reading it still needs the
-- right to see the ticket.
CREATE TABLE attachments (
    id            uuid PRIMARY KEY,
    ticket_id     uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    message_id    uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    file_name     text NOT NULL,
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL,
    sha256        bytea NOT NULL REFERENCES blobs (sha256),
    content_id    text NOT NULL DEFAULT ''
);
CREATE INDEX attachments_of_message ON attachments (message_id, position);
CREATE INDEX attachments_by_blob ON attachments (sha256);
CREATE INDEX uploads_by_blob ON uploads (sha256);
