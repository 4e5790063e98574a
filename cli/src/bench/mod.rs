//! Load generators: programs that print figures, never timed assertions. Each measures its
//! subject and a baseline in the same run and prints their ratio, because shared machines are
//! noisy (DESIGN §4).

pub mod gateway;
mod load;

pub use load::{LoadResult, run_closed_loop};
