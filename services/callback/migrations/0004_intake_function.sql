-- The IVR's common push in one statement (docs/product.md §2.1). Called in autocommit, the
-- statement is its own transaction: the advisory locks, the checks and every row it writes (the
-- callback, its history entry, its outbox event and the intake record) commit together or not
-- at all. The service computes every value written, so the rows are those its transactional
-- path writes. Each statement of a (volatile) function sees what committed before it began, so
-- the reads after the locks see the work of the push that held them.

-- The locks that serialise pushes: by IVR call id, then by number on a route (always in that
-- order, so two pushes cannot deadlock), until the transaction ends. One definition for both
-- paths of a push.
CREATE FUNCTION intake_lock(p_ivr_call_id text, p_route_id uuid, p_phone text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('callback-intake:' || p_ivr_call_id, 0));
    PERFORM pg_advisory_xact_lock(
        hashtextextended('callback-number:' || p_route_id::text || ':' || p_phone, 0));
END
$$;

-- outcome: 'stale_route' when the route is not at `p_route_version` any more (changed or
-- deleted: the service reads it again); 'replayed' with the earlier push's callback and
-- disposition; 'conflict' when the call id was pushed with another body or request time;
-- 'attach' when the route attaches repeat requests and the number has an open callback (the
-- service then attaches in a transaction of its own); 'created' when the new callback and its
-- rows were written.
CREATE FUNCTION intake_push(
    p_body_hash bytea,
    p_given_request_time timestamptz, -- NULL when the push left it out
    p_route_version bigint,
    p_attach boolean,
    -- the new callback, in the order of the service's insert (its call id and route are the push's)
    p_id uuid,
    p_phone_number text,
    p_phone_national text,
    p_caller_number text,
    p_route_id uuid,
    p_ivr_call_id text,
    p_request_time timestamptz,
    p_last_request_time timestamptz,
    p_request_count integer,
    p_preferred_start timestamptz,
    p_preferred_end timestamptz,
    p_memo text,
    p_state smallint,
    p_create_time timestamptz,
    p_update_time timestamptz,
    p_version bigint,
    -- its encoded history entry, its outbox row and its intake disposition
    p_history_entry bytea,
    p_event_id uuid,
    p_routing_key text,
    p_envelope bytea,
    p_traceparent text,
    p_tracestate text,
    p_disposition smallint,
    OUT outcome text,
    OUT earlier_callback_id uuid,
    OUT earlier_disposition smallint
) LANGUAGE plpgsql AS $$
DECLARE
    earlier intake_requests%ROWTYPE;
BEGIN
    PERFORM FROM ivr_routes WHERE id = p_route_id AND version = p_route_version;
    IF NOT FOUND THEN
        outcome := 'stale_route';
        RETURN;
    END IF;
    PERFORM intake_lock(p_ivr_call_id, p_route_id, p_phone_number);
    SELECT * INTO earlier FROM intake_requests WHERE ivr_call_id = p_ivr_call_id;
    IF FOUND THEN
        IF earlier.body_hash <> p_body_hash
           OR (p_given_request_time IS NOT NULL AND earlier.request_time <> p_given_request_time)
        THEN
            outcome := 'conflict';
        ELSE
            outcome := 'replayed';
            earlier_callback_id := earlier.callback_id;
            earlier_disposition := earlier.disposition;
        END IF;
        RETURN;
    END IF;
    -- `state <> 3` (COMPLETED) is the predicate of the partial index callbacks_open_by_phone.
    IF p_attach AND EXISTS (
        SELECT FROM callbacks
        WHERE ivr_route_id = p_route_id AND phone_number = p_phone_number AND state <> 3
    ) THEN
        outcome := 'attach';
        RETURN;
    END IF;
    INSERT INTO callbacks (id, phone_number, phone_national, caller_number, ivr_route_id,
        ivr_call_id, request_time, last_request_time, request_count, preferred_start,
        preferred_end, memo, state, create_time, update_time, version)
    VALUES (p_id, p_phone_number, p_phone_national, p_caller_number, p_route_id,
        p_ivr_call_id, p_request_time, p_last_request_time, p_request_count, p_preferred_start,
        p_preferred_end, p_memo, p_state, p_create_time, p_update_time, p_version);
    INSERT INTO callback_history (callback_id, version, entry)
    VALUES (p_id, p_version, p_history_entry);
    INSERT INTO outbox (event_id, routing_key, envelope, traceparent, tracestate)
    VALUES (p_event_id, p_routing_key, p_envelope, p_traceparent, p_tracestate);
    INSERT INTO intake_requests (ivr_call_id, body_hash, request_time, callback_id, disposition)
    VALUES (p_ivr_call_id, p_body_hash, p_request_time, p_id, p_disposition);
    outcome := 'created';
END
$$;
