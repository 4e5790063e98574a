//! The ticket's pure rules: the state machine, the fields and their checks, template placeholders and ticket numbers in subjects.

pub mod fields;
pub mod template;
pub mod text;
pub mod threading;
pub mod workflow;
