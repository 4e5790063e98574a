-- The volume report reads a period's days with every dimension it may filter on: from this
-- index alone (no heap), whatever the filter.
CREATE INDEX ticket_volume_counts_by_day ON ticket_volume_counts (day)
    INCLUDE (channel, group_id, assignee_login, inquiry_type_id, mail_account_id, created,
             solved, closed);
