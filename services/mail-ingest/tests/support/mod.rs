//! Real servers the tests run for themselves.

pub mod dovecot;
pub mod smtp_sink;
