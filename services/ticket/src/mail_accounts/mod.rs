//! Receiving e-mail accounts (대표메일 계정), announced to mail-ingest.

pub mod lookup;
