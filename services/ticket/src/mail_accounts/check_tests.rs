use switchboard_platform::error::violated_fields;

use super::*;

pub fn account() -> MailAccount {
    MailAccount {
        address: " help@example.co.kr ".into(),
        display_name: "고객센터".into(),
        imap: Some(ImapSettings {
            host: "imap.example.co.kr".into(),
            username: "help".into(),
            secret_ref: "env:HELP_IMAP_PASSWORD".into(),
            ..Default::default()
        }),
        smtp: Some(SmtpSettings {
            host: "smtp.example.co.kr".into(),
            username: "help".into(),
            secret_ref: "file:/run/secrets/help-smtp".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn fields_of(account: &MailAccount) -> Vec<String> {
    let mut violations = FieldViolations::new();
    check(account, &mut violations);
    violated_fields(&violations.into_status())
}

#[test]
fn defaults_are_resolved_as_the_proto_says() {
    let mut violations = FieldViolations::new();
    let checked = check(&account(), &mut violations);
    assert!(violations.is_empty());
    assert_eq!(checked.address, "help@example.co.kr");
    let imap = checked.imap.unwrap();
    assert_eq!(
        (imap.port, imap.tls_mode(), imap.folder.as_str()),
        (993, MailTlsMode::Implicit, "INBOX")
    );
    assert_eq!(imap.poll_interval_seconds, 60);
    assert!(imap.secret_set);
    let smtp = checked.smtp.unwrap();
    assert_eq!((smtp.port, smtp.tls_mode()), (587, MailTlsMode::Starttls));
    let mut plain = account();
    plain.imap.as_mut().unwrap().tls_mode = MailTlsMode::Starttls as i32;
    plain.smtp.as_mut().unwrap().tls_mode = MailTlsMode::Implicit as i32;
    let checked = check(&plain, &mut violations);
    assert_eq!(checked.imap.unwrap().port, 143);
    assert_eq!(checked.smtp.unwrap().port, 465);
    // NONE is stored; mail-ingest refuses it unless it runs with allow_insecure_mail.
    plain.smtp.as_mut().unwrap().tls_mode = MailTlsMode::None as i32;
    assert_eq!(check(&plain, &mut violations).smtp.unwrap().port, 587);
    assert!(violations.is_empty());
}

#[test]
fn secret_references_are_env_or_absolute_files() {
    for good in ["env:A", "env:_HELP_2", "file:/run/secrets/x"] {
        assert_eq!(secret_ref_problem(good), None, "{good}");
    }
    for bad in [
        "hunter2",
        "env:",
        "env:2X",
        "env:A-B",
        "file:relative",
        "file:/a/../b",
        "ENV:A",
    ] {
        assert!(secret_ref_problem(bad).is_some(), "{bad}");
    }
}

#[test]
fn every_bad_field_is_named() {
    let mut bad = account();
    bad.address = "help.example.co.kr".into();
    bad.display_name = "고".repeat(101);
    let imap = bad.imap.as_mut().unwrap();
    imap.secret_ref = "password123".into();
    imap.username = String::new();
    imap.poll_interval_seconds = 5;
    let smtp = bad.smtp.as_mut().unwrap();
    smtp.port = 70_000;
    smtp.host = "smtp example".into();
    smtp.tls_mode = 9;
    assert_eq!(
        fields_of(&bad),
        [
            "mail_account.address",
            "mail_account.display_name",
            "mail_account.imap.username",
            "mail_account.imap.secret_ref",
            "mail_account.imap.poll_interval_seconds",
            "mail_account.smtp.host",
            "mail_account.smtp.tls_mode",
            "mail_account.smtp.port",
        ]
    );
}

#[test]
fn imap_is_optional_smtp_is_not_and_an_smtp_secret_needs_a_user() {
    let mut receive_only = account();
    receive_only.imap = Some(ImapSettings::default());
    let mut violations = FieldViolations::new();
    assert_eq!(check(&receive_only, &mut violations).imap, None);
    assert!(violations.is_empty());
    let mut relay = account();
    relay.smtp.as_mut().unwrap().username = String::new();
    assert_eq!(fields_of(&relay), ["mail_account.smtp.secret_ref"]);
    relay.smtp.as_mut().unwrap().secret_ref = String::new();
    assert!(fields_of(&relay).is_empty());
    let mut no_password = account();
    no_password.smtp.as_mut().unwrap().secret_ref = String::new();
    assert_eq!(fields_of(&no_password), ["mail_account.smtp.secret_ref"]);
    let mut no_smtp = account();
    no_smtp.smtp = None;
    assert_eq!(fields_of(&no_smtp), ["mail_account.smtp"]);
}
