-- Pushes that arrive together are written together: `intake_push_many` runs `intake_push` for
-- each push of a batch in one statement, so a batch costs one round trip, one snapshot per
-- step and one commit instead of one of each per push. Called in autocommit, the batch commits
-- or fails as a whole (the service then pushes each alone).
--
-- Deadlocks: a batch takes the locks of all its pushes before the first one runs, so every
-- transaction that takes these locks must take them in one order. That order is the order of
-- the lock keys; `intake_lock`, which the attach path and `intake_push` call, now follows it too
-- (the batch's locks are already held when its `intake_push` calls take them again).

CREATE OR REPLACE FUNCTION intake_lock(p_ivr_call_id text, p_route_id uuid, p_phone text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM intake_lock_keys(ARRAY[p_ivr_call_id], ARRAY[p_route_id], ARRAY[p_phone]);
END
$$;

-- The advisory locks of pushes (by IVR call id, and by number on a route) in key order.
CREATE FUNCTION intake_lock_keys(p_ivr_call_id text[], p_route_id uuid[], p_phone text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(key) FROM (
        SELECT key FROM (
            SELECT hashtextextended('callback-intake:' || call_id, 0) AS key
            FROM unnest(p_ivr_call_id) AS call_id
            UNION
            SELECT hashtextextended('callback-number:' || route_id::text || ':' || phone, 0)
            FROM unnest(p_route_id, p_phone) AS number(route_id, phone)
        ) keys
        ORDER BY key
    ) sorted;
END
$$;

-- One row per push, in the order of the arrays (`push_index`, from 1, says which); each array holds one
-- parameter of `intake_push` for every push.
CREATE FUNCTION intake_push_many(
    p_body_hash bytea[],
    p_given_request_time timestamptz[],
    p_route_version bigint[],
    p_attach boolean[],
    p_id uuid[],
    p_phone_number text[],
    p_phone_national text[],
    p_caller_number text[],
    p_route_id uuid[],
    p_ivr_call_id text[],
    p_request_time timestamptz[],
    p_last_request_time timestamptz[],
    p_request_count integer[],
    p_preferred_start timestamptz[],
    p_preferred_end timestamptz[],
    p_memo text[],
    p_state smallint[],
    p_create_time timestamptz[],
    p_update_time timestamptz[],
    p_version bigint[],
    p_history_entry bytea[],
    p_event_id uuid[],
    p_routing_key text[],
    p_envelope bytea[],
    p_traceparent text[],
    p_tracestate text[],
    p_disposition smallint[]
) RETURNS TABLE (push_index integer, outcome text, earlier_callback_id uuid,
    earlier_disposition smallint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM intake_lock_keys(p_ivr_call_id, p_route_id, p_phone_number);
    FOR i IN 1 .. cardinality(p_id) LOOP
        push_index := i;
        SELECT pushed.outcome, pushed.earlier_callback_id, pushed.earlier_disposition
        INTO outcome, earlier_callback_id, earlier_disposition
        FROM intake_push(p_body_hash[i], p_given_request_time[i], p_route_version[i],
            p_attach[i], p_id[i], p_phone_number[i], p_phone_national[i], p_caller_number[i],
            p_route_id[i], p_ivr_call_id[i], p_request_time[i], p_last_request_time[i],
            p_request_count[i], p_preferred_start[i], p_preferred_end[i], p_memo[i],
            p_state[i], p_create_time[i], p_update_time[i], p_version[i], p_history_entry[i],
            p_event_id[i], p_routing_key[i], p_envelope[i], p_traceparent[i], p_tracestate[i],
            p_disposition[i]) AS pushed;
        RETURN NEXT;
    END LOOP;
END
$$;
