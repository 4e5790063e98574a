-- One row per agent who ever had a CTI session: every presence change locks it (so replicas
-- change one agent's presence one at a time) and bumps the version its events carry. The
-- presence itself lives in Redis with a TTL.
CREATE TABLE presence_sessions (
    login   text PRIMARY KEY,
    version bigint NOT NULL DEFAULT 0
);
