-- The admin-managed lists: inquiry types (접수유형), processing types (처리유형), reply templates
-- (템플릿) and receiving mail accounts (대표메일 계정).

CREATE TABLE inquiry_types (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    description  text NOT NULL DEFAULT '',
    active       boolean NOT NULL DEFAULT true,
    position     integer NOT NULL,
    -- Set once a ticket has had it: such a type can be deactivated, never deleted.
    used         boolean NOT NULL DEFAULT false,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE processing_types (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    description  text NOT NULL DEFAULT '',
    active       boolean NOT NULL DEFAULT true,
    position     integer NOT NULL,
    used         boolean NOT NULL DEFAULT false,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE templates (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    subject      text NOT NULL DEFAULT '',
    body         text NOT NULL,
    group_ids    uuid[] NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT true,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now()
);

-- Each account is its encoded `MailAccount`, secret references included (never returned by
-- the API; published to mail-ingest in `mail_account.changed`).
CREATE TABLE mail_accounts (
    id                   uuid PRIMARY KEY,
    address              text NOT NULL,
    active               boolean NOT NULL DEFAULT true,
    default_for_replies  boolean NOT NULL DEFAULT false,
    version              bigint NOT NULL DEFAULT 1,
    account              bytea NOT NULL
);
CREATE UNIQUE INDEX mail_accounts_by_address ON mail_accounts (lower(address));
-- At most one default reply account.
CREATE UNIQUE INDEX mail_accounts_one_default ON mail_accounts (default_for_replies)
    WHERE default_for_replies;
