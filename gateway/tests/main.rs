//! The gateway's integration tests in one binary (one link on two cores): authentication, the
//! directory, presence and routing, each against the real PostgreSQL, Redis and RabbitMQ.

mod authentication;
mod common;
mod directory;
mod presence;
mod relay;
mod routing;
