//! The editable fields of a ticket, checked and normalised (ticket.proto): subject, tags,
//! customer fields and the requester.

use std::collections::{BTreeSet, HashMap};

use switchboard_platform::error::FieldViolations;
use switchboard_proto::ticket::v1::TicketRequester;

pub const NO_SUBJECT: &str = "(no subject)";
const MAX_SUBJECT: usize = 500;
const MAX_TAGS: usize = 50;
const MAX_TAG: usize = 64;
const MAX_FIELDS: usize = 50;
const MAX_FIELD_KEY: usize = 64;
const MAX_FIELD_VALUE: usize = 2_000;
const MAX_NAME: usize = 200;

/// The subject, trimmed: 1 to 500 characters (a required field).
pub fn subject(violations: &mut FieldViolations, field: &str, text: &str) -> String {
    let trimmed = text.trim();
    let chars = trimmed.chars().count();
    if chars == 0 {
        violations.add(field, "must not be empty");
    } else if chars > MAX_SUBJECT {
        violations.add(field, format!("must be at most {MAX_SUBJECT} characters"));
    }
    trimmed.to_owned()
}

/// A customer's subject as received: cut to 500 characters, "(no subject)" when empty.
pub fn received_subject(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return NO_SUBJECT.into();
    }
    trimmed.chars().take(MAX_SUBJECT).collect()
}

/// Tags lowercased, sorted and without duplicates; each 1 to 64 characters of letters (any
/// script), digits, `_`, `-`, `.` or `:`; at most 50.
pub fn tags(violations: &mut FieldViolations, field: &str, tags: &[String]) -> Vec<String> {
    let mut kept = BTreeSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let tag = tag.to_lowercase();
        let chars = tag.chars().count();
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
        if chars == 0 || chars > MAX_TAG || !tag.chars().all(allowed) {
            violations.add(
                format!("{field}[{i}]"),
                "must be 1 to 64 letters, digits, '_', '-', '.' or ':'",
            );
            continue;
        }
        kept.insert(tag);
    }
    if kept.len() > MAX_TAGS {
        violations.add(field, format!("must hold at most {MAX_TAGS} tags"));
    }
    kept.into_iter().collect()
}

/// Customer fields: keys of 1 to 64 `[a-z0-9_]`, values of at most 2,000 characters, at most 50.
pub fn customer_fields(
    violations: &mut FieldViolations,
    field: &str,
    fields: &HashMap<String, String>,
) {
    if fields.len() > MAX_FIELDS {
        violations.add(field, format!("must hold at most {MAX_FIELDS} entries"));
    }
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort();
    for key in keys {
        let valid_key = !key.is_empty()
            && key.len() <= MAX_FIELD_KEY
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_key {
            violations.add(
                format!(
                    "{field}[{}]",
                    key.chars().take(MAX_FIELD_KEY).collect::<String>()
                ),
                "keys must be 1 to 64 characters of [a-z0-9_]",
            );
        } else if fields[key].chars().count() > MAX_FIELD_VALUE {
            violations.add(
                format!("{field}[{key}]"),
                format!("must be at most {MAX_FIELD_VALUE} characters"),
            );
        }
    }
}

/// The requester, normalised: at least one of `required` must be set (name, e-mail, phone,
/// external user id: the create rpc accepts a name alone, ingest needs an address).
pub fn requester(
    violations: &mut FieldViolations,
    field: &str,
    requester: Option<&TicketRequester>,
    name_is_enough: bool,
) -> TicketRequester {
    let Some(given) = requester else {
        violations.add(field, "is required");
        return TicketRequester::default();
    };
    let mut normalised = TicketRequester {
        name: given.name.trim().to_owned(),
        email: String::new(),
        phone_number: given.phone_number.trim().to_owned(),
        external_user_id: given.external_user_id.trim().to_owned(),
    };
    if normalised.name.chars().count() > MAX_NAME {
        violations.add(format!("{field}.name"), "must be at most 200 characters");
    }
    if !given.email.is_empty() {
        match email(&given.email) {
            Some(address) => normalised.email = address,
            None => {
                violations.add(format!("{field}.email"), "must be an e-mail address");
            }
        }
    }
    if !normalised.phone_number.is_empty() && !is_e164(&normalised.phone_number) {
        violations.add(
            format!("{field}.phone_number"),
            "must be in E.164 form, for example +821012345678",
        );
    }
    if normalised.external_user_id.chars().count() > MAX_NAME {
        violations.add(
            format!("{field}.external_user_id"),
            "must be at most 200 characters",
        );
    }
    let has_address = !normalised.email.is_empty()
        || !normalised.phone_number.is_empty()
        || !normalised.external_user_id.is_empty();
    if !has_address && (!name_is_enough || normalised.name.is_empty()) {
        let what = if name_is_enough {
            "needs a name, an e-mail address or a phone number"
        } else {
            "needs an e-mail address, a phone number or an external user id"
        };
        violations.add(field, what);
    }
    normalised
}

/// An e-mail address with its domain lowercased, or `None` when it is not one.
pub fn email(text: &str) -> Option<String> {
    let text = text.trim();
    let (local, domain) = text.rsplit_once('@')?;
    let valid = !local.is_empty()
        && local.len() <= 64
        && !domain.is_empty()
        && domain.len() <= 255
        && domain.contains('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    valid.then(|| format!("{local}@{}", domain.to_lowercase()))
}

/// The e-mail addresses of a list field, normalised as [`email`]; a violation naming
/// `{field}[i]` for each one that is not an address.
pub fn emails(violations: &mut FieldViolations, field: &str, given: &[String]) -> Vec<String> {
    given
        .iter()
        .enumerate()
        .filter_map(|(i, address)| {
            let parsed = email(address);
            if parsed.is_none() {
                violations.add(format!("{field}[{i}]"), "must be an e-mail address");
            }
            parsed
        })
        .collect()
}

fn is_e164(text: &str) -> bool {
    let digits = text.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;

    use super::*;

    #[test]
    fn tags_are_lowercased_sorted_deduplicated_and_korean_allowed() {
        let mut v = FieldViolations::new();
        let given = ["VIP", "환불", "vip", "a:b.c-d_e"].map(String::from);
        assert_eq!(
            tags(&mut v, "ticket.tags", &given),
            ["a:b.c-d_e", "vip", "환불"]
        );
        assert!(v.is_empty());
        let bad = ["ok", "", "two words"].map(String::from);
        tags(&mut v, "ticket.tags", &bad);
        assert_eq!(
            violated_fields(&v.into_status()),
            ["ticket.tags[1]", "ticket.tags[2]"]
        );
    }

    #[test]
    fn customer_field_keys_and_values_are_bounded() {
        let mut v = FieldViolations::new();
        let fields = HashMap::from([
            ("order_no".to_string(), "A-1".to_string()),
            ("Bad Key".to_string(), "x".to_string()),
            ("long".to_string(), "가".repeat(2_001)),
        ]);
        customer_fields(&mut v, "ticket.customer_fields", &fields);
        assert_eq!(
            violated_fields(&v.into_status()),
            [
                "ticket.customer_fields[Bad Key]",
                "ticket.customer_fields[long]"
            ]
        );
    }

    #[test]
    fn the_requester_needs_an_address_unless_a_name_is_enough() {
        let named = TicketRequester {
            name: " 김민수 ".into(),
            ..Default::default()
        };
        let mut v = FieldViolations::new();
        assert_eq!(
            requester(&mut v, "ticket.requester", Some(&named), true).name,
            "김민수"
        );
        assert!(v.is_empty());
        requester(&mut v, "requester", Some(&named), false);
        assert_eq!(violated_fields(&v.into_status()), ["requester"]);
    }

    #[test]
    fn e_mail_domains_are_lowercased_and_local_parts_kept() {
        assert_eq!(
            email("Kim@Example.CO.KR").as_deref(),
            Some("Kim@example.co.kr")
        );
        assert_eq!(email("no-at-sign"), None);
        assert_eq!(email("a b@example.com"), None);
        assert_eq!(email("a@localhost"), None);
    }

    #[test]
    fn subjects_are_trimmed_and_bounded_and_received_ones_cut() {
        let mut v = FieldViolations::new();
        assert_eq!(
            subject(&mut v, "ticket.subject", "  환불 문의 "),
            "환불 문의"
        );
        subject(&mut v, "ticket.subject", "   ");
        assert_eq!(violated_fields(&v.into_status()), ["ticket.subject"]);
        assert_eq!(received_subject(""), NO_SUBJECT);
        assert_eq!(received_subject(&"가".repeat(600)).chars().count(), 500);
    }
}
