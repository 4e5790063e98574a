-- Triggers (docs/product.md §4), in the order they run. The conditions and actions are kept as
-- the encoded `switchboard.trigger.v1.Trigger` they were written as (compiled again when read);
-- the business-hours schedules they name are kept beside them so a schedule in use cannot be
-- deleted.
CREATE TABLE triggers (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- The name as compared for uniqueness (NFKC, lower case).
    name_key text NOT NULL UNIQUE,
    active boolean NOT NULL,
    -- 1..n without gaps; checked at commit so a reorder can move every row.
    position integer NOT NULL CHECK (position >= 1),
    definition bytea NOT NULL,
    business_hours_ids text[] NOT NULL DEFAULT '{}',
    create_time timestamptz NOT NULL,
    update_time timestamptz NOT NULL,
    CONSTRAINT triggers_position_unique UNIQUE (position) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX triggers_business_hours ON triggers USING gin (business_hours_ids);

-- Round-robin distribution: per group, the agent who last received a ticket. The row is
-- locked while a run picks the next one, so replicas take turns and stay fair.
CREATE TABLE round_robin_cursors (
    group_id text PRIMARY KEY,
    last_login text NOT NULL,
    update_time timestamptz NOT NULL
);

-- A counter of rule changes (triggers and business-hours schedules), raised in the transaction
-- of each change. Every replica compares it with the version of its compiled rules before each
-- batch of events, so a change takes effect for the next event everywhere.
CREATE TABLE rules_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version bigint NOT NULL
);
INSERT INTO rules_version (version) VALUES (0);
