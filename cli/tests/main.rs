//! The `switchboard` binary's tests in one test binary (one link on two cores): the binary as an
//! operator runs it, and its refusal of development defaults outside development mode.

mod binary;
mod production_mode;
