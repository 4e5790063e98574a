-- The directory (agents, groups) and API keys, owned by the gateway.

CREATE TABLE groups (
    id           uuid PRIMARY KEY,
    display_name text NOT NULL UNIQUE,
    description  text NOT NULL DEFAULT '',
    version      bigint NOT NULL DEFAULT 1,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now()
);

-- Deleted agents keep their row (deleted_time set) so a login is never reused.
CREATE TABLE agents (
    login        text PRIMARY KEY,
    display_name text NOT NULL,
    email        text NOT NULL DEFAULT '',
    role         text NOT NULL CHECK (role IN ('agent', 'admin')),
    permissions  text[] NOT NULL DEFAULT '{}',
    disabled     boolean NOT NULL DEFAULT false,
    version      bigint NOT NULL DEFAULT 1,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now(),
    deleted_time timestamptz
);

-- position keeps the order of an agent's groups: the first is their primary group.
CREATE TABLE agent_groups (
    login    text NOT NULL REFERENCES agents (login),
    group_id uuid NOT NULL REFERENCES groups (id),
    position int NOT NULL,
    PRIMARY KEY (login, group_id)
);
CREATE INDEX agent_groups_by_group ON agent_groups (group_id);

CREATE TABLE api_keys (
    id             uuid PRIMARY KEY,
    display_name   text NOT NULL UNIQUE,
    description    text NOT NULL DEFAULT '',
    scopes         text[] NOT NULL,
    key_prefix     text NOT NULL,
    -- SHA-256 of the secret: the secret has 256 random bits, so a slow hash adds nothing.
    secret_hash    bytea NOT NULL UNIQUE,
    expire_time    timestamptz,
    create_time    timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL,
    revoke_time    timestamptz,
    revoked_by     text,
    last_used_time timestamptz
);
