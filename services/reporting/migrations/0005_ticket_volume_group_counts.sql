-- The volumes again without the agent: the agent is what makes `ticket_volume_counts` nearly
-- one row per ticket (a busy month holds about 130,000 rows, and 17,000 without the agent), so
-- a report that neither filters nor breaks down by agent reads these instead. Both tables are
-- written by the same statement.
CREATE TABLE ticket_volume_group_counts (
    day             date NOT NULL,
    channel         int2 NOT NULL,
    group_id        text NOT NULL,
    inquiry_type_id text NOT NULL,
    mail_account_id text NOT NULL,
    created         int8 NOT NULL DEFAULT 0,
    solved          int8 NOT NULL DEFAULT 0,
    closed          int8 NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel, group_id, inquiry_type_id, mail_account_id)
);

INSERT INTO ticket_volume_group_counts
SELECT day, channel, group_id, inquiry_type_id, mail_account_id, sum(created), sum(solved),
    sum(closed)
FROM ticket_volume_counts
GROUP BY 1, 2, 3, 4, 5;

CREATE INDEX ticket_volume_group_counts_by_day ON ticket_volume_group_counts (day)
    INCLUDE (channel, group_id, inquiry_type_id, mail_account_id, created, solved, closed);

-- A report of some agents reads only their rows (a month is about 650 rows an agent).
CREATE INDEX ticket_volume_counts_by_agent ON ticket_volume_counts (assignee_login, day)
    INCLUDE (channel, group_id, inquiry_type_id, mail_account_id, created, solved, closed);
