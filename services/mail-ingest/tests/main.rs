//! mail-ingest's integration tests: one binary, a module per capability, against the real
//! PostgreSQL and RabbitMQ, the ticket service and the gateway.
