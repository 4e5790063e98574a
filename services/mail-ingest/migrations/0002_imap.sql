-- IMAP fetching: one row per receiving account that has been fetched (or whose cursor an admin
-- set), holding the lease that lets one replica at a time fetch it, the durable cursor and what
-- `GetMailboxStatus` shows.
CREATE TABLE imap_mailboxes (
    mail_account_id      uuid PRIMARY KEY,
    -- The replica fetching the account and until when; another may take over once it expired.
    lease_holder         text,
    lease_expires        timestamptz,
    -- The cursor: the folder's UIDVALIDITY as last seen and the highest UID stored. `cursor_epoch`
    -- grows with every ResetMailboxCursor, so a fetch that began before a reset cannot move the
    -- cursor past it.
    uid_validity         bigint NOT NULL DEFAULT 0,
    last_uid             bigint NOT NULL DEFAULT 0,
    cursor_epoch         bigint NOT NULL DEFAULT 0,
    fetched_count        bigint NOT NULL DEFAULT 0,
    fetching             boolean NOT NULL DEFAULT false,
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_error           text NOT NULL DEFAULT '',
    last_error_time      timestamptz,
    last_fetch_time      timestamptz,
    last_success_time    timestamptz,
    next_fetch_time      timestamptz,
    -- The aggregate version of the mailbox's events (mailbox.fetch_failed, .recovered).
    event_version        bigint NOT NULL DEFAULT 0,
    update_time          timestamptz NOT NULL DEFAULT now()
);
