-- The ticket model, folded from the `ticket.*` events only (events/v1/ticket_events.proto).

-- One row per ticket: its snapshot of the highest version seen, and the first solve of every
-- version seen (a later snapshot keeps only the latest solve).
CREATE TABLE ticket_facts (
    ticket_id        uuid PRIMARY KEY,
    version          int8 NOT NULL,
    channel          int2 NOT NULL,
    group_id         text NOT NULL,
    assignee_login   text NOT NULL,
    inquiry_type_id  text NOT NULL,
    mail_account_id  text NOT NULL,
    status           int2 NOT NULL,
    -- In the spam box or deleted: left out of every report.
    excluded         bool NOT NULL,
    create_time      timestamptz NOT NULL,
    first_reply_time timestamptz,
    first_solve_time timestamptz,
    solve_time       timestamptz,
    close_time       timestamptz,
    -- Local days (the center's zone) of the times above, for the reports' ranges.
    create_day       date NOT NULL,
    first_reply_day  date,
    first_solve_day  date,
    solve_day        date,
    close_day        date,
    -- The durations the times report measures, in seconds: create → first reply, → first solve,
    -- and → latest solve while solved or closed.
    first_reply_s      float8,
    first_resolution_s float8,
    final_resolution_s float8
);

-- The times report reads, by the day of the event it measures, only these indexes (the
-- durations in seconds are kept with the dimensions it filters on).
CREATE INDEX ticket_facts_first_reply ON ticket_facts (first_reply_day)
    INCLUDE (channel, group_id, assignee_login, inquiry_type_id, mail_account_id, first_reply_s)
    WHERE NOT excluded AND first_reply_day IS NOT NULL;
CREATE INDEX ticket_facts_first_solve ON ticket_facts (first_solve_day)
    INCLUDE (channel, group_id, assignee_login, inquiry_type_id, mail_account_id,
             first_resolution_s)
    WHERE NOT excluded AND first_solve_day IS NOT NULL;
CREATE INDEX ticket_facts_final_solve ON ticket_facts (solve_day)
    INCLUDE (channel, group_id, assignee_login, inquiry_type_id, mail_account_id,
             final_resolution_s)
    WHERE NOT excluded AND final_resolution_s IS NOT NULL;
-- The backlog now.
CREATE INDEX ticket_facts_open ON ticket_facts (status) INCLUDE (group_id, assignee_login)
    WHERE status IN (1, 2, 3);

-- Every version seen of every ticket: what its status, group and assignee were from when.
CREATE TABLE ticket_states (
    ticket_id      uuid NOT NULL,
    version        int8 NOT NULL,
    at             timestamptz NOT NULL,
    status         int2 NOT NULL,
    group_id       text NOT NULL,
    assignee_login text NOT NULL,
    PRIMARY KEY (ticket_id, version)
);

-- Volumes pre-aggregated per local day and every filter dimension: a ticket adds 1 to
-- `created` on its creation day, to `solved` on its latest solve's day (while solved or closed)
-- and to `closed` on its close day.
CREATE TABLE ticket_volume_counts (
    day             date NOT NULL,
    channel         int2 NOT NULL,
    group_id        text NOT NULL,
    assignee_login  text NOT NULL,
    inquiry_type_id text NOT NULL,
    mail_account_id text NOT NULL,
    created         int8 NOT NULL DEFAULT 0,
    solved          int8 NOT NULL DEFAULT 0,
    closed          int8 NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel, group_id, assignee_login, inquiry_type_id, mail_account_id)
);

-- The backlog as changes: an open state in effect at the end of its first day adds 1 on that
-- day and takes it back on the day the next state begins, so the open tickets at the end of day
-- D (per status, group and assignee) are the sum of the changes up to D.
CREATE TABLE ticket_backlog_changes (
    day            date NOT NULL,
    status         int2 NOT NULL,
    group_id       text NOT NULL,
    assignee_login text NOT NULL,
    delta          int8 NOT NULL,
    PRIMARY KEY (day, status, group_id, assignee_login)
);
