//! Inquiry types (접수유형) and processing types (처리유형): two admin-managed lists of one shape.

pub mod lookup;
