//! What a valid agent or group is (pure; the service turns violations into INVALID_ARGUMENT).

use switchboard_platform::error::FieldViolations;
use switchboard_platform::error::quote;
use switchboard_proto::gateway::v1::{Agent, AgentRole, Group};
use uuid::Uuid;

/// The permissions an agent may hold.
pub const PERMISSIONS: &[&str] = &["phone"];

/// Logins: 1 to 64 of a–z, 0–9, ".", "_", "-", "@" (after lowercasing).
pub fn normalize_login(login: &str) -> Option<String> {
    let login = login.trim().to_lowercase();
    let valid = !login.is_empty()
        && login.len() <= 64
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    valid.then_some(login)
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A plausible RFC 5322 addr-spec: one "@", a non-empty local part and a dotted domain.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// Checks the agent fields named in `fields` (all of them on create) under `prefix` ("agent").
pub fn check_agent(agent: &Agent, fields: &[&str], violations: &mut FieldViolations) {
    let has = |f: &str| fields.contains(&f);
    if has("display_name") {
        let n = chars(agent.display_name.trim());
        violations.check(n == 0 || n > 100, "agent.display_name", || {
            "must be 1 to 100 characters".into()
        });
    }
    if has("email") && !agent.email.is_empty() {
        violations.check(!is_email(&agent.email), "agent.email", || {
            "must be an e-mail address".into()
        });
    }
    if has("role") {
        violations.check(
            !matches!(agent.role(), AgentRole::Agent | AgentRole::Admin),
            "agent.role",
            || "must be AGENT_ROLE_AGENT or AGENT_ROLE_ADMIN".into(),
        );
    }
    if has("permissions") {
        for (i, permission) in agent.permissions.iter().enumerate() {
            violations.check(
                !PERMISSIONS.contains(&permission.as_str()),
                &format!("agent.permissions[{i}]"),
                || {
                    format!(
                        "unknown permission {}; valid: {PERMISSIONS:?}",
                        quote(permission)
                    )
                },
            );
        }
    }
    if has("group_ids") {
        for (i, id) in agent.group_ids.iter().enumerate() {
            let field = format!("agent.group_ids[{i}]");
            if violations.uuid(field.clone(), id).is_some() && agent.group_ids[..i].contains(id) {
                violations.add(field, "is listed twice");
            }
        }
    }
}

/// An optional group id filter: empty means none; anything else must be a UUID.
pub fn optional_group_id(value: &str, violations: &mut FieldViolations) -> Option<Uuid> {
    violations.optional_uuid("group_id", value)
}

pub fn check_group(group: &Group, fields: &[&str], violations: &mut FieldViolations) {
    if fields.contains(&"display_name") {
        let n = chars(group.display_name.trim());
        violations.check(n == 0 || n > 100, "group.display_name", || {
            "must be 1 to 100 characters".into()
        });
    }
    if fields.contains(&"description") {
        violations.check(
            chars(&group.description) > 1_000,
            "group.description",
            || "must be at most 1,000 characters".into(),
        );
    }
}

pub const AGENT_FIELDS: &[&str] = &[
    "display_name",
    "email",
    "role",
    "permissions",
    "group_ids",
    "disabled",
];
pub const GROUP_FIELDS: &[&str] = &["display_name", "description"];

/// The fields an `update_mask` names: "*" means all; unknown paths are INVALID_ARGUMENT.
pub fn mask_fields(
    paths: &[String],
    allowed: &'static [&'static str],
    violations: &mut FieldViolations,
) -> Vec<&'static str> {
    if paths.is_empty() {
        violations.add("update_mask", "must name at least one field");
        return Vec::new();
    }
    if paths.iter().any(|p| p == "*") {
        return allowed.to_vec();
    }
    let mut fields = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        match allowed.iter().find(|f| **f == path.as_str()) {
            Some(field) => fields.push(*field),
            None => {
                violations.add(
                    format!("update_mask.paths[{i}]"),
                    format!("{} cannot be changed; valid: {allowed:?}", quote(path)),
                );
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_lowercased_and_limited() {
        assert_eq!(normalize_login(" Kim.Min@Ex "), Some("kim.min@ex".into()));
        assert_eq!(normalize_login(""), None);
        assert_eq!(normalize_login("김민"), None);
        assert_eq!(normalize_login(&"a".repeat(65)), None);
    }

    #[test]
    fn agents_are_checked_field_by_field() {
        let agent = Agent {
            login: "kim".into(),
            display_name: "김민지".into(),
            email: "not-mail".into(),
            role: 0,
            permissions: vec!["phone".into(), "fly".into()],
            group_ids: vec![Uuid::nil().to_string(), Uuid::nil().to_string(), "x".into()],
            ..Default::default()
        };
        let mut violations = FieldViolations::new();
        check_agent(&agent, AGENT_FIELDS, &mut violations);
        let fields = switchboard_platform::error::violated_fields(&violations.into_status());
        assert_eq!(
            fields,
            [
                "agent.email",
                "agent.role",
                "agent.permissions[1]",
                "agent.group_ids[1]",
                "agent.group_ids[2]"
            ]
        );
    }

    #[test]
    fn masks_name_known_fields_only() {
        let mut violations = FieldViolations::new();
        let fields = mask_fields(&["*".into()], GROUP_FIELDS, &mut violations);
        assert_eq!(fields, GROUP_FIELDS);
        let fields = mask_fields(&["login".into()], AGENT_FIELDS, &mut violations);
        assert!(fields.is_empty());
        assert!(!violations.is_empty());
    }
}
