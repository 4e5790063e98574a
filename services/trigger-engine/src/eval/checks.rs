//! Recording what is wrong with a trigger while compiling it: every problem goes to the
//! caller's `FieldViolations`, and the compiler learns whether a part had any.

use switchboard_platform::{error::FieldViolations, request::parse_uuid};

/// The most characters of an id (groups, accounts, types, templates, logins): ids are checked
/// for form only, since whether they exist changes after the trigger is saved.
pub(super) const MAX_ID: usize = 200;

pub(super) struct Checks<'v> {
    violations: &'v mut FieldViolations,
    count: usize,
}

impl<'v> Checks<'v> {
    pub fn new(violations: &'v mut FieldViolations) -> Self {
        Self {
            violations,
            count: 0,
        }
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.count += 1;
        self.violations.add(field, description);
    }

    /// How many problems were recorded so far (compare before and after a part).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Text of `min` to `max` characters.
    pub fn chars(&mut self, field: &str, text: &str, min: usize, max: usize) -> bool {
        let count = text.chars().count();
        if count < min {
            let description = if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {min} characters")
            };
            self.add(field, description);
            false
        } else if count > max {
            self.add(
                field,
                format!("must be at most {max} characters (got {count})"),
            );
            false
        } else {
            true
        }
    }

    /// A required id: 1 to 200 characters.
    pub fn id(&mut self, field: &str, id: &str) -> bool {
        self.chars(field, id, 1, MAX_ID)
    }

    /// A required UUID, in canonical form (the form schedules are stored and looked up by).
    pub fn uuid(&mut self, field: &str, text: &str) -> Option<String> {
        let parsed = parse_uuid(text);
        if parsed.is_none() {
            self.add(field, "must be a UUID");
        }
        parsed.map(|id| id.to_string())
    }

    /// A list of `min` to `max` entries.
    pub fn entries(&mut self, field: &str, len: usize, min: usize, max: usize, what: &str) {
        if len < min {
            self.add(field, format!("must hold at least {min} {what}"));
        } else if len > max {
            self.add(field, format!("must hold at most {max} {what} (got {len})"));
        }
    }
}

/// An enum value that names a known value other than the unspecified 0.
pub(super) fn specified<E: TryFrom<i32>>(value: i32) -> Option<E> {
    if value == 0 {
        return None;
    }
    E::try_from(value).ok()
}
