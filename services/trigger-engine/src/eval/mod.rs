//! Trigger evaluation: pure, no I/O.
