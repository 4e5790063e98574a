//! What every handler reads from its request the same way: the verified principal with the
//! message, UUID fields by one rule, and the admin-or-scope check.

use switchboard_proto::common::v1::Principal;
use tonic::Status;
use uuid::Uuid;

use crate::{
    error::{FieldViolations, invalid_field, quote},
    principal::{PrincipalExt, RequestPrincipal},
};

/// The verified principal and the message of a call, in one step.
pub trait PrincipalAndBody<T> {
    /// `UNAUTHENTICATED` when the server runs without verification (as `principal()`).
    fn into_principal_and_body(self) -> Result<(Principal, T), Status>;
}

impl<T> PrincipalAndBody<T> for tonic::Request<T> {
    fn into_principal_and_body(self) -> Result<(Principal, T), Status> {
        let principal = self.principal()?.clone();
        Ok((principal, self.into_inner()))
    }
}

/// `PERMISSION_DENIED` unless `principal` is an admin or a service granted `scope`.
pub fn require_admin_or_scope(principal: &Principal, scope: &str) -> Result<(), Status> {
    if principal.is_admin() || principal.has_scope(scope) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "this method is for admins and the {scope} scope"
        )))
    }
}

/// What a bad UUID field is told.
const NOT_A_UUID: &str = "must be a UUID";

/// The one rule for UUID request fields: any textual form `Uuid::parse_str` accepts (hyphenated,
/// simple, braced, URN), in any case, with nothing trimmed.
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text).ok()
}

/// A required UUID field, or `INVALID_ARGUMENT` naming `field`.
pub fn uuid_field(field: &str, text: &str) -> Result<Uuid, Status> {
    parse_uuid(text).ok_or_else(|| invalid_field(field, NOT_A_UUID))
}

impl FieldViolations {
    /// A required UUID field; a violation naming `field` (among the request's others) when it
    /// is not one.
    pub fn uuid(&mut self, field: impl Into<String>, text: &str) -> Option<Uuid> {
        let parsed = parse_uuid(text);
        if parsed.is_none() {
            self.add(field, NOT_A_UUID);
        }
        parsed
    }

    /// An optional UUID field: empty means none; anything else must be a UUID.
    pub fn optional_uuid(&mut self, field: impl Into<String>, text: &str) -> Option<Uuid> {
        if text.is_empty() {
            return None;
        }
        self.uuid(field, text)
    }
}

/// The paths of an update mask that are among `allowed`, each once, in `allowed`'s order. An
/// empty mask or a path not allowed is a violation of `update_mask` (naming the path).
pub fn mask<'a>(
    violations: &mut FieldViolations,
    paths: &[String],
    allowed: &[&'a str],
) -> Vec<&'a str> {
    if paths.is_empty() {
        violations.add("update_mask", "name the fields to change");
    }
    for path in paths {
        if !allowed.contains(&path.as_str()) {
            violations.add(
                "update_mask",
                format!(
                    "{} is not a field that can be changed (allowed: {})",
                    quote(path),
                    allowed.join(", ")
                ),
            );
        }
    }
    allowed
        .iter()
        .copied()
        .filter(|field| paths.iter().any(|p| p == field))
        .collect()
}

#[cfg(test)]
mod tests {
    use switchboard_proto::common::v1::PrincipalKind;
    use tonic::Code;

    use super::*;
    use crate::{error::violated_fields, principal::VerifiedPrincipal};

    const ID: &str = "0191d3b4-1111-7000-8000-000000000001";

    #[test]
    fn every_rfc_4122_text_form_is_a_uuid() {
        let id = parse_uuid(ID).unwrap();
        for form in [
            ID.to_uppercase(),
            ID.replace('-', ""),
            format!("{{{ID}}}"),
            format!("urn:uuid:{ID}"),
        ] {
            assert_eq!(parse_uuid(&form), Some(id), "{form}");
        }
    }

    #[test]
    fn nothing_is_trimmed_and_the_field_is_named() {
        for text in [
            format!(" {ID}"),
            format!("{ID}\n"),
            String::new(),
            "x".into(),
        ] {
            let status = uuid_field("callback.id", &text).unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument);
            assert_eq!(violated_fields(&status), ["callback.id"]);
        }
    }

    #[test]
    fn violations_collect_bad_uuids_and_skip_empty_optional_ones() {
        let mut violations = FieldViolations::new();
        assert!(violations.uuid("callback_ids[0]", ID).is_some());
        assert!(violations.uuid("callback_ids[1]", "nope").is_none());
        assert!(violations.optional_uuid("group_id", "").is_none());
        assert!(violations.optional_uuid("assignee.group_id", " ").is_none());
        let status = violations.into_status();
        assert_eq!(
            violated_fields(&status),
            ["callback_ids[1]", "assignee.group_id"]
        );
        assert!(status.message().contains("callback_ids[1]: must be a UUID"));
    }

    fn principal(kind: PrincipalKind, scopes: &[&str]) -> Principal {
        Principal {
            subject: "kim".into(),
            kind: kind as i32,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn admins_and_scoped_services_pass() {
        let check = |p: &Principal| require_admin_or_scope(p, "reporting:read");
        assert!(check(&principal(PrincipalKind::Admin, &[])).is_ok());
        assert!(check(&principal(PrincipalKind::Service, &["reporting:read"])).is_ok());
        let denied = check(&principal(PrincipalKind::Service, &["callbacks:read"])).unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        assert!(denied.message().contains("reporting:read"));
        // A scope on an agent means nothing.
        assert!(check(&principal(PrincipalKind::Agent, &["reporting:read"])).is_err());
    }

    #[test]
    fn the_principal_comes_with_the_body() {
        let mut request = tonic::Request::new("body");
        assert_eq!(
            tonic::Request::new("body")
                .into_principal_and_body()
                .unwrap_err()
                .code(),
            Code::Unauthenticated
        );
        request
            .extensions_mut()
            .insert(VerifiedPrincipal(principal(PrincipalKind::Admin, &[])));
        let (principal, body) = request.into_principal_and_body().unwrap();
        assert_eq!((principal.subject.as_str(), body), ("kim", "body"));
    }
}
