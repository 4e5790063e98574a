//! `UpdateMailAccount`'s mask applied to the stored account (secret references included), so
//! the result can be checked whole as a create is. Pure.

use switchboard_proto::ticket::v1::{ImapSettings, MailAccount, MailTlsMode, SmtpSettings};

/// The paths `update_mask` may name: whole settings or one field of them.
pub const FIELDS: [&str; 18] = [
    "address",
    "display_name",
    "active",
    "default_for_replies",
    "imap",
    "imap.host",
    "imap.port",
    "imap.tls_mode",
    "imap.username",
    "imap.secret_ref",
    "imap.folder",
    "imap.poll_interval_seconds",
    "smtp",
    "smtp.host",
    "smtp.port",
    "smtp.tls_mode",
    "smtp.username",
    "smtp.secret_ref",
];

/// `stored` with the fields of `given` named in `fields` (paths of [`FIELDS`]). A whole
/// `imap` or `smtp` replaces the stored one, secret reference included. `active` and
/// `default_for_replies` are left to the default-account rule (`defaults::settle`).
pub fn merge(stored: &MailAccount, given: &MailAccount, fields: &[&str]) -> MailAccount {
    let mut merged = stored.clone();
    let has = |field: &str| fields.contains(&field);
    if has("address") {
        merged.address = given.address.clone();
    }
    if has("display_name") {
        merged.display_name = given.display_name.clone();
    }
    if has("imap") {
        merged.imap = given.imap.clone();
    }
    let imap_fields: Vec<&str> = fields
        .iter()
        .filter_map(|f| f.strip_prefix("imap."))
        .collect();
    if !imap_fields.is_empty() {
        let given = given.imap.clone().unwrap_or_default();
        let imap = merged.imap.get_or_insert_with(ImapSettings::default);
        merge_imap(imap, &given, &imap_fields);
    }
    if has("smtp") {
        merged.smtp = given.smtp.clone();
    }
    let smtp_fields: Vec<&str> = fields
        .iter()
        .filter_map(|f| f.strip_prefix("smtp."))
        .collect();
    if !smtp_fields.is_empty() {
        let given = given.smtp.clone().unwrap_or_default();
        let smtp = merged.smtp.get_or_insert_with(SmtpSettings::default);
        merge_smtp(smtp, &given, &smtp_fields);
    }
    merged
}

/// True when `fields` change single IMAP settings and `merged` has no IMAP host: an empty host
/// means no IMAP, so the change would silently be dropped. Removing IMAP is `imap` set to
/// none.
pub fn imap_fields_without_host(merged: &MailAccount, fields: &[&str]) -> bool {
    fields.iter().any(|f| f.starts_with("imap."))
        && merged
            .imap
            .as_ref()
            .is_none_or(|imap| imap.host.trim().is_empty())
}

/// A port left at its mode's default follows a change of mode (0 is resolved again).
fn follow_mode(port: &mut i32, old_default: i32, fields: &[&str]) {
    if fields.contains(&"tls_mode") && !fields.contains(&"port") && *port == old_default {
        *port = 0;
    }
}

fn merge_imap(imap: &mut ImapSettings, given: &ImapSettings, fields: &[&str]) {
    let old_default = if imap.tls_mode() == MailTlsMode::Implicit {
        993
    } else {
        143
    };
    follow_mode(&mut imap.port, old_default, fields);
    for field in fields {
        match *field {
            "host" => imap.host = given.host.clone(),
            "port" => imap.port = given.port,
            "tls_mode" => imap.tls_mode = given.tls_mode,
            "username" => imap.username = given.username.clone(),
            "secret_ref" => imap.secret_ref = given.secret_ref.clone(),
            "folder" => imap.folder = given.folder.clone(),
            "poll_interval_seconds" => imap.poll_interval_seconds = given.poll_interval_seconds,
            _ => {}
        }
    }
}

fn merge_smtp(smtp: &mut SmtpSettings, given: &SmtpSettings, fields: &[&str]) {
    let old_default = if smtp.tls_mode() == MailTlsMode::Implicit {
        465
    } else {
        587
    };
    follow_mode(&mut smtp.port, old_default, fields);
    for field in fields {
        match *field {
            "host" => smtp.host = given.host.clone(),
            "port" => smtp.port = given.port,
            "tls_mode" => smtp.tls_mode = given.tls_mode,
            "username" => smtp.username = given.username.clone(),
            "secret_ref" => smtp.secret_ref = given.secret_ref.clone(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> MailAccount {
        MailAccount {
            address: "help@example.co.kr".into(),
            imap: Some(ImapSettings {
                host: "imap.example.co.kr".into(),
                port: 993,
                tls_mode: MailTlsMode::Implicit as i32,
                secret_ref: "env:OLD".into(),
                ..Default::default()
            }),
            smtp: Some(SmtpSettings {
                host: "smtp.example.co.kr".into(),
                port: 2525,
                tls_mode: MailTlsMode::Starttls as i32,
                secret_ref: "env:SMTP".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn single_fields_keep_the_stored_secret_and_whole_settings_replace_it() {
        let given = MailAccount {
            imap: Some(ImapSettings {
                host: "imap2.example.co.kr".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let merged = merge(&stored(), &given, &["imap.host"]);
        let imap = merged.imap.unwrap();
        assert_eq!(
            (imap.host.as_str(), imap.secret_ref.as_str()),
            ("imap2.example.co.kr", "env:OLD")
        );
        let replaced = merge(&stored(), &given, &["imap"]).imap.unwrap();
        assert_eq!(
            replaced.secret_ref, "",
            "a whole imap needs its secret again"
        );
        assert_eq!(
            merge(&stored(), &MailAccount::default(), &["imap"]).imap,
            None
        );
    }

    #[test]
    fn single_imap_fields_need_a_host() {
        let receive_only = MailAccount {
            imap: None,
            ..stored()
        };
        let given = MailAccount {
            imap: Some(ImapSettings {
                username: "help".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let merged = merge(&receive_only, &given, &["imap.username"]);
        assert!(imap_fields_without_host(&merged, &["imap.username"]));
        let merged = merge(&stored(), &given, &["imap.username"]);
        assert!(!imap_fields_without_host(&merged, &["imap.username"]));
        let removed = merge(&stored(), &MailAccount::default(), &["imap"]);
        assert!(!imap_fields_without_host(&removed, &["imap"]));
    }

    #[test]
    fn a_default_port_follows_the_mode_and_a_chosen_one_stays() {
        let given = MailAccount {
            imap: Some(ImapSettings {
                tls_mode: MailTlsMode::Starttls as i32,
                ..Default::default()
            }),
            smtp: Some(SmtpSettings {
                tls_mode: MailTlsMode::Implicit as i32,
                ..Default::default()
            }),
            ..Default::default()
        };
        let merged = merge(&stored(), &given, &["imap.tls_mode", "smtp.tls_mode"]);
        assert_eq!(
            merged.imap.unwrap().port,
            0,
            "993 was the default: resolved again"
        );
        assert_eq!(merged.smtp.unwrap().port, 2525, "a port chosen stays");
    }
}
