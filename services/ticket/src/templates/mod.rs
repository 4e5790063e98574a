//! Reply templates (템플릿) and their placeholders.

pub mod lookup;
