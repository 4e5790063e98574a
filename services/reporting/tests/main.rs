//! The reporting service's integration tests in one binary (one link on two cores): the
//! reports, the 10,000-callback scenario and the path from the callback service's events.

mod common;
mod end_to_end;
mod reports;
mod scenario;
