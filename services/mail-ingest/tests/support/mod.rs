//! Real servers the tests run for themselves.

pub mod smtp_sink;
