//! Integration tests of the trigger engine against real PostgreSQL, Redis and RabbitMQ.

mod common;

mod api;
mod distribution;
mod live;
