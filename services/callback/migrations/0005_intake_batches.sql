-- Pushes that arrive together are written together: `intake_push_many` writes a batch of pushes
-- in one statement, so a batch costs one round trip and one commit instead of one of each per
-- push. Called in autocommit, the batch commits
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

-- One row per push (`push_index`, from 1, says which; each array holds one parameter of
-- `intake_push` for every push). The common push is written with the others in bulk: one that
-- is certainly new (its route at the version it names, its call id neither pushed before nor
-- twice in the batch, and on an attaching route no open callback for its number, nor the
-- number twice in the batch). Every other push then runs `intake_push` alone, in the batch's
-- order, seeing what the bulk wrote, so each push ends as it would have pushed alone.
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
DECLARE
    fresh integer[]; -- the indexes of the pushes written in bulk
    i integer;
BEGIN
    PERFORM intake_lock_keys(p_ivr_call_id, p_route_id, p_phone_number);
    SELECT coalesce(array_agg(p.i), '{}') INTO fresh
    FROM (
        SELECT u.*, count(*) OVER (PARTITION BY u.call_id) AS same_call,
               count(*) OVER (PARTITION BY u.route_id, u.phone) AS same_number
        FROM unnest(p_ivr_call_id, p_route_id, p_phone_number, p_route_version, p_attach)
             WITH ORDINALITY AS u(call_id, route_id, phone, route_version, attach, i)
    ) p
    WHERE p.same_call = 1
      AND EXISTS (
          SELECT FROM ivr_routes r WHERE r.id = p.route_id AND r.version = p.route_version)
      AND NOT EXISTS (SELECT FROM intake_requests q WHERE q.ivr_call_id = p.call_id)
      -- `state <> 3` (COMPLETED): the predicate of the partial index callbacks_open_by_phone.
      AND NOT (p.attach AND (p.same_number > 1 OR EXISTS (
          SELECT FROM callbacks c
          WHERE c.ivr_route_id = p.route_id AND c.phone_number = p.phone AND c.state <> 3)));
    INSERT INTO callbacks (id, phone_number, phone_national, caller_number, ivr_route_id,
        ivr_call_id, request_time, last_request_time, request_count, preferred_start,
        preferred_end, memo, state, create_time, update_time, version)
    SELECT p_id[k], p_phone_number[k], p_phone_national[k], p_caller_number[k], p_route_id[k],
        p_ivr_call_id[k], p_request_time[k], p_last_request_time[k], p_request_count[k],
        p_preferred_start[k], p_preferred_end[k], p_memo[k], p_state[k], p_create_time[k],
        p_update_time[k], p_version[k]
    FROM unnest(fresh) AS k;
    INSERT INTO callback_history (callback_id, version, entry)
    SELECT p_id[k], p_version[k], p_history_entry[k] FROM unnest(fresh) AS k;
    INSERT INTO outbox (event_id, routing_key, envelope, traceparent, tracestate)
    SELECT p_event_id[k], p_routing_key[k], p_envelope[k], p_traceparent[k], p_tracestate[k]
    FROM unnest(fresh) AS k;
    INSERT INTO intake_requests (ivr_call_id, body_hash, request_time, callback_id, disposition)
    SELECT p_ivr_call_id[k], p_body_hash[k], p_request_time[k], p_id[k], p_disposition[k]
    FROM unnest(fresh) AS k;
    RETURN QUERY SELECT k, 'created'::text, NULL::uuid, NULL::smallint FROM unnest(fresh) AS k;
    FOR i IN
        SELECT s FROM generate_series(1, cardinality(p_id)) AS s WHERE s <> ALL (fresh) ORDER BY s
    LOOP
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
