//! The shared gateway harness (`switchboard_gateway::testing`).

pub use switchboard_gateway::testing::*;
