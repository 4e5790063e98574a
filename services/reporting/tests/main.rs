//! The reporting service's integration tests in one binary (one link on two cores): the
//! reports, the 10,000-callback and 10,000-ticket scenarios, the fold's batches against single events, the path
//! from the callback service's events, and the input bounds of the whole API as a client meets
//! them through the gateway.

mod bounds;
mod common;
mod end_to_end;
mod fold;
mod reports;
mod scenario;
mod ticket_reports;
mod ticket_scenario;
