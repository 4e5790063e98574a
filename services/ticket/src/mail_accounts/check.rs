//! The checks of a mail account (mail_account.proto), and its defaults made explicit: what is
//! stored and announced to mail-ingest is the account as it runs (ports, TLS modes, folder and
//! interval resolved), so mail-ingest needs none of these rules. Pure.

use switchboard_platform::error::FieldViolations;
use switchboard_proto::ticket::v1::{ImapSettings, MailAccount, MailTlsMode, SmtpSettings};

const ADDRESS_MAX_CHARS: usize = 254;
const DISPLAY_NAME_MAX_CHARS: usize = 100;
const HOST_MAX_CHARS: usize = 253;
const USERNAME_MAX_CHARS: usize = 320;
const FOLDER_MAX_CHARS: usize = 200;
const SECRET_REF_MAX_CHARS: usize = 1_024;

/// The account checked and resolved; violations are named `mail_account.<field>`. `account`
/// is complete (on update: the stored account with the changes applied), so a secret
/// reference kept from before counts as given.
pub fn check(account: &MailAccount, violations: &mut FieldViolations) -> MailAccount {
    let address = account.address.trim().to_owned();
    if let Some(problem) = address_problem(&address) {
        violations.add("mail_account.address", problem);
    }
    let display_name = account.display_name.trim().to_owned();
    if violations.max_chars(
        "mail_account.display_name",
        &display_name,
        DISPLAY_NAME_MAX_CHARS,
    ) {
        violations.check(
            display_name.chars().any(char::is_control),
            "mail_account.display_name",
            || "must not contain control characters".into(),
        );
    }
    // No IMAP host: the account only receives what an MTA submits.
    let imap = account
        .imap
        .as_ref()
        .filter(|imap| !imap.host.trim().is_empty())
        .map(|imap| check_imap(imap, violations));
    let smtp = match &account.smtp {
        Some(smtp) => Some(check_smtp(smtp, violations)),
        None => {
            violations.add("mail_account.smtp", "is required");
            None
        }
    };
    MailAccount {
        address,
        display_name,
        imap,
        smtp,
        ..account.clone()
    }
}

fn check_imap(imap: &ImapSettings, violations: &mut FieldViolations) -> ImapSettings {
    let field = |name: &str| format!("mail_account.imap.{name}");
    let host = host(violations, &field("host"), &imap.host);
    let tls_mode =
        tls_mode(violations, &field("tls_mode"), imap.tls_mode).unwrap_or(MailTlsMode::Implicit);
    let default_port = if tls_mode == MailTlsMode::Implicit {
        993
    } else {
        143
    };
    let port = port(violations, &field("port"), imap.port, default_port);
    let username = imap.username.trim().to_owned();
    if username.is_empty() {
        violations.add(field("username"), "is required");
    } else {
        line(
            violations,
            &field("username"),
            &username,
            USERNAME_MAX_CHARS,
        );
    }
    let secret_ref = imap.secret_ref.trim().to_owned();
    secret(violations, &field("secret_ref"), &secret_ref);
    let folder = match imap.folder.trim() {
        "" => "INBOX".to_owned(),
        folder => folder.to_owned(),
    };
    line(violations, &field("folder"), &folder, FOLDER_MAX_CHARS);
    let poll_interval_seconds = match imap.poll_interval_seconds {
        0 => 60,
        seconds => seconds,
    };
    violations.check(
        !(10..=3_600).contains(&poll_interval_seconds),
        &field("poll_interval_seconds"),
        || "must be 10 to 3,600 seconds (0 means 60)".into(),
    );
    ImapSettings {
        host,
        port,
        tls_mode: tls_mode as i32,
        username,
        secret_set: !secret_ref.is_empty(),
        secret_ref,
        folder,
        poll_interval_seconds,
    }
}

fn check_smtp(smtp: &SmtpSettings, violations: &mut FieldViolations) -> SmtpSettings {
    let field = |name: &str| format!("mail_account.smtp.{name}");
    let host = host(violations, &field("host"), &smtp.host);
    let tls_mode =
        tls_mode(violations, &field("tls_mode"), smtp.tls_mode).unwrap_or(MailTlsMode::Starttls);
    let default_port = if tls_mode == MailTlsMode::Implicit {
        465
    } else {
        587
    };
    let port = port(violations, &field("port"), smtp.port, default_port);
    let username = smtp.username.trim().to_owned();
    line(
        violations,
        &field("username"),
        &username,
        USERNAME_MAX_CHARS,
    );
    let secret_ref = smtp.secret_ref.trim().to_owned();
    if username.is_empty() {
        // No user name: a relay that trusts us; a password would never be used.
        violations.check(!secret_ref.is_empty(), &field("secret_ref"), || {
            "is only used with smtp.username; clear it too".into()
        });
    } else {
        secret(violations, &field("secret_ref"), &secret_ref);
    }
    SmtpSettings {
        host,
        port,
        tls_mode: tls_mode as i32,
        username,
        secret_set: !secret_ref.is_empty(),
        secret_ref,
    }
}

/// The mode; `None` for unspecified (the protocol's default) or an unknown value (a violation).
fn tls_mode(violations: &mut FieldViolations, field: &str, value: i32) -> Option<MailTlsMode> {
    match MailTlsMode::try_from(value) {
        Ok(MailTlsMode::Unspecified) => None,
        Ok(mode) => Some(mode),
        Err(_) => {
            violations.add(field, "unknown TLS mode");
            None
        }
    }
}

fn port(violations: &mut FieldViolations, field: &str, port: i32, default: i32) -> i32 {
    match port {
        0 => default,
        1..=65_535 => port,
        _ => {
            violations.add(field, "must be 1 to 65535 (0 means the protocol's default)");
            port
        }
    }
}

fn host(violations: &mut FieldViolations, field: &str, host: &str) -> String {
    let host = host.trim();
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']');
    if host.is_empty() {
        violations.add(field, "is required");
    } else if violations.max_chars(field, host, HOST_MAX_CHARS) {
        violations.check(!host.chars().all(allowed), field, || {
            "must be a host name or IP address".into()
        });
    }
    host.to_owned()
}

/// One line of at most `max` characters.
fn line(violations: &mut FieldViolations, field: &str, text: &str, max: usize) {
    if violations.max_chars(field, text, max) {
        violations.check(text.chars().any(char::is_control), field, || {
            "must not contain control characters".into()
        });
    }
}

/// A required secret reference.
fn secret(violations: &mut FieldViolations, field: &str, reference: &str) {
    if reference.is_empty() {
        violations.add(field, "is required");
    } else if let Some(problem) = secret_ref_problem(reference) {
        violations.add(field, problem);
    }
}

/// Why `reference` is not `env:NAME` (a variable name) or `file:/absolute/path`.
pub fn secret_ref_problem(reference: &str) -> Option<&'static str> {
    const SHAPE: &str = "must be env:NAME or file:/absolute/path";
    if reference.chars().nth(SECRET_REF_MAX_CHARS).is_some() {
        return Some("must be at most 1,024 characters");
    }
    if let Some(name) = reference.strip_prefix("env:") {
        let mut chars = name.chars();
        let first = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        return (!(first && rest)).then_some("env: must name a variable (A-Z, 0-9, _)");
    }
    if let Some(path) = reference.strip_prefix("file:") {
        let absolute = path.starts_with('/');
        let clean = !path.chars().any(char::is_control) && !path.split('/').any(|s| s == "..");
        return (!(absolute && clean)).then_some("file: must be an absolute path without ..");
    }
    Some(SHAPE)
}

/// Why `address` is not an e-mail address (one `@`, a local part, a dotted domain).
fn address_problem(address: &str) -> Option<&'static str> {
    if address.is_empty() {
        return Some("is required");
    }
    if address.chars().nth(ADDRESS_MAX_CHARS).is_some() {
        return Some("must be at most 254 characters");
    }
    let forbidden = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c);
    let Some((local, domain)) = address.split_once('@') else {
        return Some("must be an e-mail address such as help@example.co.kr");
    };
    let labels_ok = domain.contains('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    if local.is_empty() || domain.contains('@') || address.chars().any(forbidden) || !labels_ok {
        return Some("must be an e-mail address such as help@example.co.kr");
    }
    None
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
