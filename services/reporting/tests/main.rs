//! The reporting service's integration tests in one binary (one link on two cores): the
//! reports, the 10,000-callback and 10,000-ticket scenarios, the fold's batches against single
//! events, a model migrated from before the ticket model's keys, the path from the callback
//! service's events, and the input bounds of the whole API as a client meets them through the
//! gateway.

mod bounds;
mod common;
mod end_to_end;
mod fold;
mod migrations;
mod reports;
mod scenario;
mod ticket_reports;
mod ticket_scenario;
