//! The callback service's integration tests in one binary (one link on two cores): intake,
//! the workflow and assignment, every call through a real gateway.

mod assignment;
mod common;
mod dial;
mod intake;
mod workflow;
