//! Trigger evaluation: pure, no I/O (docs/product.md §4, trigger.proto). A trigger is checked
//! and compiled once ([`compile_trigger`]); [`evaluate`] runs the compiled triggers against a
//! ticket event with everything else it may know prefetched into a [`Context`].

mod action;
mod apply;
mod assign;
mod changed;
mod checks;
mod compile;
mod condition;
mod distribute;
mod explain;
mod fields;
mod grammar;
mod matching;
mod run;
mod state;

pub use compile::{CompiledTrigger, compile_trigger};
pub use run::{Context, Event, MAX_PASSES, Purpose, Run, Schedule, evaluate};

#[cfg(test)]
mod action_tests;
#[cfg(test)]
mod changed_tests;
#[cfg(test)]
mod compile_tests;
#[cfg(test)]
mod condition_tests;
#[cfg(test)]
mod distribute_tests;
#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod text_condition_tests;
