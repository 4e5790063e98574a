//! The trigger engine (docs/product.md §4): ordered business rules evaluated on every ticket
//! change, business-hours schedules, distribution within groups and notifications.

pub mod eval;
pub mod hours;
mod rules;
