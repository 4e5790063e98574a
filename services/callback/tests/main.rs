//! The callback service's integration tests in one binary (one link on two cores): intake,
//! the workflow, assignment and acting on a whole search, the CTI's dial requests, the echoes
//! of long input, every call through a real gateway.

mod assignment;
mod by_search;
mod common;
mod dial;
mod echoes;
mod intake;
mod intake_cost;
mod workflow;
