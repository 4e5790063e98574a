-- The ticket list's views (티켓 목록) and their counts.

-- Each view's order, with the number (descending) as the tie-breaker for stable paging.
CREATE INDEX tickets_by_create ON tickets (create_time, number);
CREATE INDEX tickets_by_update ON tickets (update_time, number);
CREATE INDEX tickets_by_priority ON tickets (priority, create_time, number);
CREATE INDEX tickets_by_status ON tickets (status, create_time, number);
CREATE INDEX tickets_by_assignee ON tickets (assignee_login, status, create_time, number)
    WHERE assignee_login IS NOT NULL;
CREATE INDEX tickets_by_group ON tickets (group_id, status, create_time, number);

-- Tickets by (group, assignee, status), for the badges beside the views: a trigger appends one
-- row per change of those three columns (never updates one, so concurrent writers never wait
-- on each other), and the service folds the appended rows into `ticket_counts` now and then.
-- A count is the sum over both tables, exact in every transaction.
CREATE TABLE ticket_counts (
    group_key     uuid NOT NULL,       -- the nil UUID for tickets without a group
    assignee_key  text NOT NULL,       -- '' for tickets without an assignee
    status        smallint NOT NULL,
    n             bigint NOT NULL,
    PRIMARY KEY (group_key, assignee_key, status)
);

CREATE TABLE ticket_count_changes (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_key     uuid NOT NULL,
    assignee_key  text NOT NULL,
    status        smallint NOT NULL,
    n             bigint NOT NULL
);

CREATE FUNCTION ticket_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.group_id IS NOT DISTINCT FROM NEW.group_id
       AND OLD.assignee_login IS NOT DISTINCT FROM NEW.assignee_login
       AND OLD.status = NEW.status THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO ticket_count_changes (group_key, assignee_key, status, n)
        VALUES (coalesce(OLD.group_id, '00000000-0000-0000-0000-000000000000'),
                coalesce(OLD.assignee_login, ''), OLD.status, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO ticket_count_changes (group_key, assignee_key, status, n)
        VALUES (coalesce(NEW.group_id, '00000000-0000-0000-0000-000000000000'),
                coalesce(NEW.assignee_login, ''), NEW.status, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ticket_counts_track AFTER INSERT OR UPDATE OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_counts_track();

INSERT INTO ticket_counts (group_key, assignee_key, status, n)
SELECT coalesce(group_id, '00000000-0000-0000-0000-000000000000'), coalesce(assignee_login, ''),
       status, count(*)
FROM tickets GROUP BY 1, 2, 3;
