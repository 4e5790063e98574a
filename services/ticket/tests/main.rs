//! The ticket service's integration tests in one binary (one link on two cores), every call
//! through a real gateway with real credentials, against real PostgreSQL and RabbitMQ.

mod abuse;
mod attachments;
mod auto_close;
mod automation;
mod batch;
mod catalog;
mod common;
mod create;
mod events;
mod ingest;
mod mail_accounts;
mod search;
mod templated;
mod templates;
mod views;
mod workflow;
