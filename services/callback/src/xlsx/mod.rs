//! Writing `.xlsx` workbooks as a stream: a zip archive written front to back (sizes in data
//! descriptors, nothing seeked back to) holding one sheet of inline strings, so memory stays
//! the same whatever the number of rows.

mod sheet;
mod zip;

pub use zip::read_entries;

pub use sheet::{Cell, SheetWriter};

/// The media type of an `.xlsx` workbook.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
