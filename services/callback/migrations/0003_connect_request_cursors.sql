-- A dial request's cursor is given when a stream claims it, not when it is written: the rows of
-- a stream then go out in cursor order even when attempts commit out of order or a lease runs
-- out, so "received up to this cursor" never covers a request that was not sent before it.
CREATE SEQUENCE connect_request_cursors;
ALTER TABLE connect_requests ADD COLUMN cursor bigint;
