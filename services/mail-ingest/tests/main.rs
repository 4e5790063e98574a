//! mail-ingest's integration tests: one binary, a module per capability, against the real
//! PostgreSQL and RabbitMQ, the ticket service and the gateway.

mod common;
mod outbound;
mod quarantine;
mod submissions;
mod submit_raw;
mod support;
