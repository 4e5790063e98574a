//! The checks of a template's fields (template.proto). Pure: placeholders are refused here,
//! when the template is saved, so a saved template always renders.

use switchboard_platform::error::{FieldViolations, quote};
use switchboard_proto::ticket::v1::Template;
use uuid::Uuid;

use crate::{
    catalog::fields,
    domain::template::{PLACEHOLDERS, unknown_placeholder},
};

/// The fields `update_mask` may name.
pub const FIELDS: [&str; 5] = ["name", "subject", "body", "group_ids", "active"];

pub const SUBJECT_MAX_CHARS: usize = 500;
pub const BODY_MAX_CHARS: usize = 100_000;
/// More groups than a center has; a bound on the array, not a product rule.
pub const GROUPS_MAX: usize = 1_000;

/// A template's writable fields, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub name: String,
    pub subject: String,
    pub body: String,
    pub group_ids: Vec<Uuid>,
    pub active: bool,
}

/// A violation of `field` naming the first unknown placeholder of `text`.
fn placeholders(violations: &mut FieldViolations, field: &str, text: &str) {
    if let Some(name) = unknown_placeholder(text) {
        violations.add(
            field,
            format!(
                "unknown placeholder {} (known: {})",
                quote(&name),
                PLACEHOLDERS.join(", ")
            ),
        );
    }
}

/// The checked values of the fields of `template` named in `fields` (the others are left
/// default). The name and subject are trimmed; the body is kept exactly as written.
pub fn check(template: &Template, fields: &[&str], violations: &mut FieldViolations) -> Checked {
    let has = |field: &str| fields.contains(&field);
    let mut checked = Checked {
        active: template.active,
        ..Default::default()
    };
    if has("name") {
        checked.name = fields::name(violations, "template.name", &template.name);
    }
    if has("subject") {
        let subject = template.subject.trim();
        // The subject becomes an e-mail header: one line.
        if violations.max_chars("template.subject", subject, SUBJECT_MAX_CHARS) {
            violations.check(
                subject.chars().any(char::is_control),
                "template.subject",
                || "must be one line without control characters".into(),
            );
        }
        placeholders(violations, "template.subject", subject);
        checked.subject = subject.to_owned();
    }
    if has("body") {
        if template.body.trim().is_empty() {
            violations.add("template.body", "is required");
        } else {
            violations.max_chars("template.body", &template.body, BODY_MAX_CHARS);
        }
        placeholders(violations, "template.body", &template.body);
        checked.body = template.body.clone();
    }
    if has("group_ids") {
        violations.check(
            template.group_ids.len() > GROUPS_MAX,
            "template.group_ids",
            || format!("at most {GROUPS_MAX} groups"),
        );
        for (i, id) in template.group_ids.iter().enumerate() {
            if let Some(id) = violations.uuid(format!("template.group_ids[{i}]"), id)
                && !checked.group_ids.contains(&id)
            {
                checked.group_ids.push(id);
            }
        }
    }
    checked
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;

    use super::*;

    fn template() -> Template {
        Template {
            name: " 배송 안내 ".into(),
            subject: "[{{ticket.number}}] {{ticket.subject}}".into(),
            body: "{{requester.name}}님, 안녕하세요.\n{{agent.name}} 드림\n".into(),
            group_ids: vec![
                "0191d3b4-1111-7000-8000-000000000001".into(),
                "0191D3B4-1111-7000-8000-000000000001".into(),
            ],
            active: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_good_template_keeps_its_body_and_trims_its_name() {
        let mut violations = FieldViolations::new();
        let checked = check(&template(), &FIELDS, &mut violations);
        assert!(violations.is_empty());
        assert_eq!(checked.name, "배송 안내");
        assert_eq!(checked.body, template().body);
        assert_eq!(checked.group_ids.len(), 1, "the same group twice is once");
    }

    #[test]
    fn unknown_placeholders_are_named_in_subject_and_body() {
        let bad = Template {
            subject: "{{ ticket.secret }}".into(),
            body: "안녕 {{requester.phone}}".into(),
            group_ids: vec!["전체".into()],
            ..template()
        };
        let mut violations = FieldViolations::new();
        check(&bad, &FIELDS, &mut violations);
        let status = violations.into_status();
        assert_eq!(
            violated_fields(&status),
            ["template.subject", "template.body", "template.group_ids[0]"]
        );
        assert!(status.message().contains("\"ticket.secret\""));
        assert!(status.message().contains("\"requester.phone\""));
    }

    #[test]
    fn the_subject_is_one_line_and_the_body_required() {
        let bad = Template {
            subject: "첫 줄\n둘째 줄".into(),
            body: " \n".into(),
            ..template()
        };
        let mut violations = FieldViolations::new();
        check(&bad, &["subject", "body"], &mut violations);
        assert_eq!(
            violated_fields(&violations.into_status()),
            ["template.subject", "template.body"]
        );
    }
}
