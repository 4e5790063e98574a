-- The rows of idempotent batch calls (BatchReplyTickets with a request_id), each stored in the
-- transaction of its own change: a retry after a failure or crash mid-batch skips the rows
-- already finished and reports them as the first call did. The call's claim and final
-- response live in `request_ids` under the same (method, request_id).
CREATE TABLE batch_rows (
    method      text NOT NULL,
    request_id  uuid NOT NULL,
    ticket_id   uuid NOT NULL,
    result      bytea NOT NULL, -- switchboard.common.v1.RowResult
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id, ticket_id)
);
