-- Trigger runs (TicketAutomationService.ApplyTriggerRun).

-- The runs applied, or found on a closed or spam ticket, by the run's id (the id of the ticket
-- event the trigger engine evaluated): a repeat finds its row and changes nothing. The row is
-- written under the ticket's row lock, so the same run arriving twice at once waits for the
-- first and finds it; a run refused for a stale version leaves none, so it can be retried.
CREATE TABLE trigger_runs (
    run_id      text PRIMARY KEY,
    ticket_id   uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    apply_time  timestamptz NOT NULL
);
CREATE INDEX trigger_runs_of_ticket ON trigger_runs (ticket_id);

-- The trigger notifications sent to requesters, by the address they went to (the e-mail
-- address lowercased, or `channel:user` on an external channel), for the throttle: so many an
-- hour per address at the most. A row goes with its message.
CREATE TABLE requester_notifications (
    message_id  uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    address     text NOT NULL,
    send_time   timestamptz NOT NULL
);
CREATE INDEX requester_notifications_by_address ON requester_notifications (address, send_time);
