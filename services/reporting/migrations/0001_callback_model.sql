-- The reporting service's tables. It never reads another service's data: everything here comes
-- from the events it consumed.

-- The retained event log: every event consumed, whole, kept so that a model of a new shape can
-- be built again from the start (`switchboard reporting rebuild`).
CREATE TABLE event_log (
    event_id uuid PRIMARY KEY,
    event_type text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    aggregate_version bigint NOT NULL,
    occur_time timestamptz NOT NULL,
    envelope bytea NOT NULL,
    receive_time timestamptz NOT NULL DEFAULT now()
);
-- A rebuild reads each aggregate's newest event first.
CREATE INDEX event_log_by_aggregate
    ON event_log (aggregate_type, aggregate_id, aggregate_version DESC);

-- The callback model, one row per callback: the snapshot of the highest version seen, so the
-- model is the same whatever the order and however often events arrive. States are the API's
-- enum values (1 registered, 2 unprocessed, 3 completed, 4 cancelled).
CREATE TABLE callback_facts (
    callback_id uuid PRIMARY KEY,
    version bigint NOT NULL,
    ivr_route_id uuid NOT NULL,
    request_time timestamptz NOT NULL,
    -- The local day of request_time in the model's time zone (read_models.time_zone).
    request_day date NOT NULL,
    state smallint NOT NULL,
    assignee_login text,
    assignee_group_id text,
    assignee_name text,
    assign_time timestamptz
);
-- Unfinished callbacks per agent: the unprocessed rows only, for each agent's oldest and the
-- name of their newest assignment.
CREATE INDEX callback_facts_unfinished
    ON callback_facts (assignee_login, request_time) WHERE state = 2;
CREATE INDEX callback_facts_unfinished_newest
    ON callback_facts (assignee_login, assign_time DESC NULLS LAST, callback_id) WHERE state = 2;

-- The processing status, pre-aggregated per local request day, IVR route and assignee, kept in
-- step with callback_facts in the same transaction. dimension 0 counts every callback
-- (assignee ''), 1 one agent's (assignee = login), 2 one group's (assignee = group id).
CREATE TABLE callback_day_counts (
    dimension smallint NOT NULL,
    assignee text NOT NULL,
    day date NOT NULL,
    ivr_route_id uuid NOT NULL,
    completed bigint NOT NULL DEFAULT 0,
    unprocessed bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (dimension, assignee, day, ivr_route_id)
);

-- Unfinished (unprocessed) callbacks per agent and assignee group, kept in step with
-- callback_facts like the day counts.
CREATE TABLE agent_unfinished (
    assignee_login text NOT NULL,
    assignee_group_id text NOT NULL,
    unfinished bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (assignee_login, assignee_group_id)
);

-- IVR routes as their newest event described them (names for the export).
CREATE TABLE ivr_routes (
    id uuid PRIMARY KEY,
    version bigint NOT NULL,
    code text NOT NULL,
    display_name text NOT NULL,
    deleted boolean NOT NULL DEFAULT false
);

-- How fresh each model is, and the time zone its local days were computed in.
CREATE TABLE read_models (
    name text PRIMARY KEY,
    time_zone text NOT NULL,
    newest_event_time timestamptz,
    last_apply_time timestamptz,
    applied_event_count bigint NOT NULL DEFAULT 0,
    build_time timestamptz NOT NULL DEFAULT now()
);
