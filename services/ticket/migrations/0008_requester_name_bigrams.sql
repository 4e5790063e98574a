-- Search by requester name (이름) through an index, as by subject words: the character bigrams
-- of the normalised name the service writes (`requester_name_norm`), kept by PostgreSQL itself,
-- found with GIN and checked with LIKE. Bigrams as domain/text.rs makes them: distinct, none
-- holding white space.
CREATE FUNCTION ticket_text_bigrams(normalised text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g ORDER BY g), '{}')
    FROM (SELECT substr(normalised, i, 2) AS g
          FROM generate_series(1, char_length(normalised) - 1) AS i) pairs
    WHERE g !~ '\s'
$$;

ALTER TABLE tickets ADD COLUMN requester_name_bigrams text[]
    GENERATED ALWAYS AS (ticket_text_bigrams(requester_name_norm)) STORED;

CREATE INDEX tickets_requester_name_bigrams ON tickets USING gin (requester_name_bigrams);
