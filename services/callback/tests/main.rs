//! The callback service's integration tests in one binary (one link on two cores): intake,
//! the workflow and assignment, the echoes of long input, every call through a real gateway.

mod assignment;
mod common;
mod echoes;
mod intake;
mod workflow;
