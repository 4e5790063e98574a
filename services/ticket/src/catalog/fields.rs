//! Field rules the admin-managed lists share (inquiry and processing types, templates, mail
//! accounts): names and update masks. Pure; each caller names its own fields.

use switchboard_platform::error::FieldViolations;

/// The most characters of a list entry's name.
pub const NAME_MAX_CHARS: usize = 100;

/// `text` trimmed, checked as a name of 1 to 100 characters without control characters (a
/// name is one line in a picker); a violation names `field` otherwise.
pub fn name(violations: &mut FieldViolations, field: &str, text: &str) -> String {
    let name = text.trim();
    if name.is_empty() {
        violations.add(field, "is required");
    } else if violations.max_chars(field, name, NAME_MAX_CHARS) {
        violations.check(name.chars().any(char::is_control), field, || {
            "must not contain control characters".into()
        });
    }
    name.to_owned()
}

pub use switchboard_platform::request::mask;

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;

    use super::*;

    #[test]
    fn names_are_trimmed_and_counted_in_characters() {
        let mut violations = FieldViolations::new();
        let korean = "가".repeat(NAME_MAX_CHARS);
        assert_eq!(name(&mut violations, "a", &format!("  {korean} ")), korean);
        assert!(violations.is_empty());
        name(&mut violations, "b", "   ");
        name(&mut violations, "c", &"가".repeat(NAME_MAX_CHARS + 1));
        name(&mut violations, "d", "배송\n문의");
        assert_eq!(violated_fields(&violations.into_status()), ["b", "c", "d"]);
    }

    #[test]
    fn masks_keep_allowed_paths_once_and_name_the_rest() {
        let allowed = ["name", "active"];
        let mut violations = FieldViolations::new();
        let paths = ["active".to_owned(), "name".into(), "active".into()];
        assert_eq!(mask(&mut violations, &paths, &allowed), ["name", "active"]);
        assert!(violations.is_empty());
        mask(&mut violations, &["id".to_owned()], &allowed);
        mask(&mut violations, &[], &allowed);
        let status = violations.into_status();
        assert_eq!(violated_fields(&status), ["update_mask", "update_mask"]);
        assert!(status.message().contains("\"id\" is not a field"));
    }
}
