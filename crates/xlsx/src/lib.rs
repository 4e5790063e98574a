//! Writing `.xlsx` workbooks as a stream: a zip archive written front to back (sizes in data
//! descriptors, nothing seeked back to) holding one sheet of inline strings, so memory stays
//! the same whatever the number of rows. Shared by every export of the mesh.

mod sheet;
mod zip;

pub use sheet::{Cell, SheetWriter};
pub use zip::read_entries;

/// The media type of an `.xlsx` workbook.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The most file bytes one export message carries (the APIs promise at most 1 MiB).
pub const MAX_CHUNK_BYTES: usize = 1 << 20;
