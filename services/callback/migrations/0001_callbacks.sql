-- Callback management, owned by the callback service.

-- IVR routes (IVR 경로). The policy and the state of callbacks are stored as their proto enum
-- numbers, so the code maps them in one place.
CREATE TABLE ivr_routes (
    id                    uuid PRIMARY KEY,
    code                  text NOT NULL UNIQUE,
    display_name          text NOT NULL,
    description           text NOT NULL DEFAULT '',
    repeat_request_policy smallint NOT NULL CHECK (repeat_request_policy IN (1, 2)),
    disabled              boolean NOT NULL DEFAULT false,
    version               bigint NOT NULL DEFAULT 1,
    create_time           timestamptz NOT NULL DEFAULT now(),
    update_time           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE callbacks (
    id                   uuid PRIMARY KEY,
    phone_number         text NOT NULL,      -- E.164
    phone_national       text NOT NULL,      -- national digits with the trunk prefix, for search
    caller_number        text NOT NULL DEFAULT '',
    ivr_route_id         uuid NOT NULL REFERENCES ivr_routes (id),
    ivr_call_id          text NOT NULL,
    request_time         timestamptz NOT NULL,
    last_request_time    timestamptz NOT NULL,
    request_count        integer NOT NULL DEFAULT 1,
    preferred_start      timestamptz,
    preferred_end        timestamptz,
    memo                 text NOT NULL DEFAULT '',
    state                smallint NOT NULL CHECK (state IN (1, 2, 3, 4)),
    assignee_login       text,
    assignee_group_id    text,
    assignee_name        text,
    distributor_login    text,
    distributor_group_id text,
    distributor_name     text,
    assign_time          timestamptz,
    attempt_count        integer NOT NULL DEFAULT 0,
    last_attempt_id      uuid,
    complete_time        timestamptz,
    completed_by_subject text,
    completed_by_kind    text,
    completed_by_name    text,
    completion_note      text NOT NULL DEFAULT '',
    create_time          timestamptz NOT NULL DEFAULT now(),
    update_time          timestamptz NOT NULL DEFAULT now(),
    version              bigint NOT NULL DEFAULT 1,
    -- An assignee exactly in the states that have one (SPEC §2.2).
    CHECK ((assignee_login IS NOT NULL) = (state IN (2, 3)))
);

-- The list's two orders and the period filter.
CREATE INDEX callbacks_by_request_time ON callbacks (request_time, id);
-- An agent's own callbacks, and the unfinished counts.
CREATE INDEX callbacks_by_assignee ON callbacks (assignee_login, state, request_time);
-- The open callback of a number on a route (repeat requests).
CREATE INDEX callbacks_open_by_phone ON callbacks (ivr_route_id, phone_number) WHERE state <> 3;

-- Every IVR push by its call id: what it did, and the normalised body a retry must match.
CREATE TABLE intake_requests (
    ivr_call_id  text PRIMARY KEY,
    body_hash    bytea NOT NULL,
    request_time timestamptz NOT NULL,
    callback_id  uuid NOT NULL REFERENCES callbacks (id),
    disposition  smallint NOT NULL CHECK (disposition IN (1, 2)),
    create_time  timestamptz NOT NULL DEFAULT now()
);

-- The history of every callback: one entry per version, the encoded CallbackHistoryEntry.
CREATE TABLE callback_history (
    callback_id uuid NOT NULL REFERENCES callbacks (id),
    version     bigint NOT NULL,
    entry       bytea NOT NULL,
    PRIMARY KEY (callback_id, version)
);

CREATE TABLE callback_attempts (
    id                  uuid PRIMARY KEY,
    callback_id         uuid NOT NULL REFERENCES callbacks (id),
    attempt_number      integer NOT NULL,
    agent_login         text NOT NULL,
    start_time          timestamptz NOT NULL,
    outcome             smallint NOT NULL DEFAULT 0 CHECK (outcome BETWEEN 0 AND 4),
    outcome_time        timestamptz,
    talk_duration_ms    bigint,
    recorded_by_subject text,
    recorded_by_kind    text,
    recorded_by_name    text,
    UNIQUE (callback_id, attempt_number)
);
