//! The callback service's pure logic: no I/O, unit-tested on its own.

pub mod balance;
pub mod intake;
pub mod state;
