//! The reporting service's pure logic: no I/O, unit-tested on its own.

pub mod batch;
pub mod buckets;
pub mod events;
pub mod fact;
pub mod tickets;
