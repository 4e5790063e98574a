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

-- The orders (ties by number, descending); the oldest-first order reads the first backwards.
CREATE INDEX tickets_by_create_time ON tickets (create_time DESC, number DESC);
CREATE INDEX tickets_by_update_time ON tickets (update_time DESC, number DESC);
CREATE INDEX tickets_by_priority ON tickets (priority DESC, create_time DESC, number DESC);

-- The selective filters, newest first within each (also an agent's visible tickets: their
-- groups, the ungrouped, their own).
CREATE INDEX tickets_by_group ON tickets (group_id, create_time DESC);
CREATE INDEX tickets_by_assignee ON tickets (assignee_login, create_time DESC)
    WHERE assignee_login IS NOT NULL;
CREATE INDEX tickets_by_status ON tickets (status, create_time DESC);
CREATE INDEX tickets_by_mail_account ON tickets (mail_account_id, create_time DESC)
    WHERE mail_account_id IS NOT NULL;
