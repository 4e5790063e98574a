//! The `switchboard` binary's tests in one test binary (one link on two cores): the binary as an
//! operator runs it, the Helm chart checked against it, its refusal of development defaults
//! outside development mode, and what an operator sees of a push (its trace at an OTLP receiver, every role's `/metrics`).

mod binary;
mod chart;
mod production_mode;
mod telemetry;
