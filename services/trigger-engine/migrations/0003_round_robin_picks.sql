-- The round-robin step each event took, per group: the cursor it started from and the agent
-- it picked. A run reserves its steps and commits them before it calls the ticket service, so
-- the cursor is locked for microseconds, not for the call; an event evaluated again (a version
-- conflict, a redelivery) starts from the same cursor and moves it no further.
CREATE TABLE round_robin_picks (
    event_id     text NOT NULL,
    group_id     text NOT NULL,
    before_login text NOT NULL,
    login        text NOT NULL,
    create_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, group_id)
);

CREATE INDEX round_robin_picks_age ON round_robin_picks (create_time);
