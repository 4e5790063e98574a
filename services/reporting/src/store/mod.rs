//! Storage: plain async functions over a connection (inside the caller's transaction) or the
//! pool, one file per table.

pub mod counts;
pub mod facts;
pub mod log;
pub mod routes;
pub mod status;
pub mod unfinished;
