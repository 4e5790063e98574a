//! The ticket service's integration tests in one binary (one link on two cores), every call
//! through a real gateway with real credentials, against real PostgreSQL and RabbitMQ.

mod attachments;
mod common;
mod workflow;
