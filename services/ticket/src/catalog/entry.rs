//! One entry of either list, as the API shows it (`InquiryType`, `ProcessingType`: the same
//! fields) and as stored; and the checks of its fields. Pure.

use chrono::{DateTime, Utc};
use switchboard_platform::{error::FieldViolations, time::timestamp};
use switchboard_proto::ticket::v1::{InquiryType, ProcessingType};
use uuid::Uuid;

use super::{fields, lookup::Catalog};

/// The most characters of a description.
pub const DESCRIPTION_MAX_CHARS: usize = 1_000;

/// The fields `update_mask` may name.
pub const FIELDS: [&str; 4] = ["name", "description", "active", "position"];

/// An entry as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub position: i32,
    pub used: bool,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// The writable fields of an entry as a request gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryInput {
    pub id: String,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub position: i32,
}

/// The API message of one list: `InquiryType` or `ProcessingType`.
pub trait CatalogMessage: prost::Message + Default + Clone + Send + Sync + 'static {
    const CATALOG: Catalog;
    fn input(&self) -> EntryInput;
    fn from_row(row: &EntryRow) -> Self;
}

macro_rules! catalog_message {
    ($message:ty, $catalog:expr) => {
        impl CatalogMessage for $message {
            const CATALOG: Catalog = $catalog;

            fn input(&self) -> EntryInput {
                EntryInput {
                    id: self.id.clone(),
                    name: self.name.clone(),
                    description: self.description.clone(),
                    active: self.active,
                    position: self.position,
                }
            }

            fn from_row(row: &EntryRow) -> Self {
                Self {
                    id: row.id.to_string(),
                    name: row.name.clone(),
                    description: row.description.clone(),
                    active: row.active,
                    position: row.position,
                    create_time: Some(timestamp(row.create_time)),
                    update_time: Some(timestamp(row.update_time)),
                }
            }
        }
    };
}

catalog_message!(InquiryType, Catalog::InquiryTypes);
catalog_message!(ProcessingType, Catalog::ProcessingTypes);

/// What each list is called in fields, messages and request ids.
impl Catalog {
    /// The request field holding an entry: `inquiry_type`, `processing_type`.
    pub fn field(self) -> &'static str {
        match self {
            Self::InquiryTypes => "inquiry_type",
            Self::ProcessingTypes => "processing_type",
        }
    }

    /// An entry in prose: "inquiry type", "processing type".
    pub fn noun(self) -> &'static str {
        match self {
            Self::InquiryTypes => "inquiry type",
            Self::ProcessingTypes => "processing type",
        }
    }

    /// The create method, the key of its request ids.
    pub fn create_method(self) -> &'static str {
        match self {
            Self::InquiryTypes => "CreateInquiryType",
            Self::ProcessingTypes => "CreateProcessingType",
        }
    }

    /// The unique constraint on names (PostgreSQL's name for `name text UNIQUE`).
    pub fn name_constraint(self) -> &'static str {
        match self {
            Self::InquiryTypes => "inquiry_types_name_key",
            Self::ProcessingTypes => "processing_types_name_key",
        }
    }
}

/// The checked values of the fields named in `fields`; fields not named keep their input.
/// Names are trimmed. Position 0 stands for "last" (resolved when stored), on create and on
/// update alike, so no stored entry has position 0.
pub fn check(
    catalog: Catalog,
    input: &EntryInput,
    fields: &[&str],
    violations: &mut FieldViolations,
) -> EntryInput {
    let field = |name: &str| format!("{}.{name}", catalog.field());
    let mut checked = input.clone();
    if fields.contains(&"name") {
        checked.name = fields::name(violations, &field("name"), &input.name);
    }
    if fields.contains(&"description") {
        violations.max_chars(
            &field("description"),
            &input.description,
            DESCRIPTION_MAX_CHARS,
        );
    }
    if fields.contains(&"position") {
        violations.check(input.position < 0, &field("position"), || {
            "must not be negative (0 means last)".into()
        });
    }
    checked
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;

    use super::*;

    #[test]
    fn fields_are_named_after_the_list() {
        let input = EntryInput {
            name: " ".into(),
            description: "설".repeat(DESCRIPTION_MAX_CHARS + 1),
            position: -1,
            ..Default::default()
        };
        let mut violations = FieldViolations::new();
        check(Catalog::ProcessingTypes, &input, &FIELDS, &mut violations);
        assert_eq!(
            violated_fields(&violations.into_status()),
            [
                "processing_type.name",
                "processing_type.description",
                "processing_type.position"
            ]
        );
    }

    #[test]
    fn only_the_named_fields_are_checked() {
        let input = EntryInput {
            name: "  배송 문의 ".into(),
            position: -1,
            ..Default::default()
        };
        let mut violations = FieldViolations::new();
        let checked = check(Catalog::InquiryTypes, &input, &["name"], &mut violations);
        assert!(violations.is_empty());
        assert_eq!(checked.name, "배송 문의");
    }
}
