//! The ticket's pure rules: the state machine, the fields and their checks, the changes a
//! history entry records, template placeholders and ticket numbers in subjects.

pub mod changes;
pub mod fields;
pub mod template;
pub mod text;
pub mod threading;
pub mod workflow;
