-- Results of create calls by the caller's request_id, replayed for 24 hours (AIP-155).
CREATE TABLE request_ids (
    method       text NOT NULL,
    request_id   uuid NOT NULL,
    request_hash bytea NOT NULL,
    response     bytea NOT NULL,
    create_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);
