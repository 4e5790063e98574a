//! The platform's integration tests that share a process safely, in one binary (one link on two
//! cores). `graceful_shutdown` (it signals its own process) and `one_trace` (it installs the
//! global subscriber) stay binaries of their own.

mod consumer_crash;
mod consumer_harness;
mod consumer_transient;
mod consumer_workers;
mod dead_letters;
mod grpc_server;
mod outbox_nothing_lost;
mod supervision;
