//! mail-ingest's integration tests: one binary, a module per capability, against the real
//! PostgreSQL and RabbitMQ, the ticket service and the gateway (and a private Dovecot for IMAP).

mod common;
mod imap;
mod outbound;
mod quarantine;
mod submissions;
mod submit_raw;
mod support;
