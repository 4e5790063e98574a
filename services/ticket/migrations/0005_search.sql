-- Ticket search (티켓 검색, SearchTickets). Subject words match by substring on normalised text
-- (NFKC, lower case), Korean included, which pg_trgm cannot index (no trigram of a 2-character
-- word, none at all from Hangul under lc_ctype=C). So the service writes, with every ticket, its
-- normalised subject and that text's character bigrams (domain/text.rs, the one normalisation);
-- a GIN index finds the tickets holding a word's bigrams and LIKE on the normalised text checks
-- the word itself.

ALTER TABLE tickets
    ADD COLUMN subject_norm text NOT NULL DEFAULT '',
    ADD COLUMN subject_bigrams text[] NOT NULL DEFAULT '{}',
    ADD COLUMN requester_name_norm text NOT NULL DEFAULT '';

-- Existing tickets: SQL lower() only (NFKC, and lower case beyond ASCII under lc_ctype=C, come
-- with the ticket's next write). Bigrams as the service makes them: distinct, none holding
-- white space.
UPDATE tickets SET
    subject_norm = lower(subject),
    requester_name_norm = lower(requester_name),
    subject_bigrams = ARRAY(
        SELECT DISTINCT substr(lower(subject), i, 2)
        FROM generate_series(1, char_length(subject) - 1) AS i
        WHERE substr(lower(subject), i, 2) !~ '\s'
        ORDER BY 1
    );

CREATE INDEX tickets_subject_bigrams ON tickets USING gin (subject_bigrams);
CREATE INDEX tickets_tags ON tickets USING gin (tags);

-- The orders and the group, assignee and status filters use the indexes of the ticket views
-- (0006_views.sql: create, update and priority orders, and group, assignee, status each with
-- the create order); read backwards they give the newest-first orders.
CREATE INDEX tickets_by_mail_account ON tickets (mail_account_id, create_time)
    WHERE mail_account_id IS NOT NULL;
