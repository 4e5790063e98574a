-- Business-hours schedules (업무시간, business_hours.proto). The schedule proper (time zone,
-- weekly intervals, holidays) is kept as the encoded `switchboard.trigger.v1.BusinessHours` it
-- was written as, with its other fields empty: it is only ever read whole (by the API and by
-- the evaluation cache of every replica), never searched by day or date, so up to 49 intervals
-- and 500 holidays in child tables would only add joins. An empty time zone is kept empty, so
-- such a schedule follows the center's zone if that changes. The name is a column for the
-- list's order and for uniqueness.
CREATE TABLE business_hours (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- The name as compared for uniqueness (NFKC, lower case).
    name_key text NOT NULL,
    schedule bytea NOT NULL,
    create_time timestamptz NOT NULL,
    update_time timestamptz NOT NULL,
    CONSTRAINT business_hours_name_unique UNIQUE (name_key)
);
