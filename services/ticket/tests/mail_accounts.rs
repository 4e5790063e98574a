//! Receiving mail accounts (대표메일 계정) through the gateway: secret references never
//! returned but announced to mail-ingest, agents' narrow view, and the default reply account.

use prost::Message;
use prost_types::FieldMask;
use switchboard_gateway::testing::{EventTap, bearer};
use switchboard_proto::{
    events::v1::{EventEnvelope, MailAccountChanged, MailAccountDeleted},
    ticket::v1::*,
};
use tonic::{Code, Status};

use crate::common::{
    Mesh,
    catalog_clients::{invalid, refused},
};

fn account(address: &str) -> MailAccount {
    MailAccount {
        address: address.into(),
        display_name: "고객센터".into(),
        imap: Some(ImapSettings {
            host: "imap.example.co.kr".into(),
            username: address.into(),
            secret_ref: "env:HELP_IMAP_PASSWORD".into(),
            ..Default::default()
        }),
        smtp: Some(SmtpSettings {
            host: "smtp.example.co.kr".into(),
            username: address.into(),
            secret_ref: "file:/run/secrets/help-smtp".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn create(
    mesh: &Mesh,
    request_id: &str,
    account: MailAccount,
) -> Result<MailAccount, Status> {
    mesh.mail_accounts()
        .await
        .create_mail_account(bearer(
            CreateMailAccountRequest {
                request_id: request_id.into(),
                mail_account: Some(account),
            },
            &mesh.admin(),
        ))
        .await
        .map(|r| r.into_inner().mail_account.unwrap())
}

async fn update(mesh: &Mesh, account: MailAccount, paths: &[&str]) -> Result<MailAccount, Status> {
    mesh.mail_accounts()
        .await
        .update_mail_account(bearer(
            UpdateMailAccountRequest {
                mail_account: Some(account),
                update_mask: Some(FieldMask {
                    paths: paths.iter().map(|p| p.to_string()).collect(),
                }),
            },
            &mesh.admin(),
        ))
        .await
        .map(|r| r.into_inner().mail_account.unwrap())
}

async fn get(mesh: &Mesh, id: &str) -> MailAccount {
    mesh.mail_accounts()
        .await
        .get_mail_account(bearer(
            GetMailAccountRequest {
                mail_account_id: id.into(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .mail_account
        .unwrap()
}

async fn delete(mesh: &Mesh, id: &str) -> Result<(), Status> {
    mesh.mail_accounts()
        .await
        .delete_mail_account(bearer(
            DeleteMailAccountRequest {
                mail_account_id: id.into(),
            },
            &mesh.admin(),
        ))
        .await
        .map(|_| ())
}

/// Flags a change of one field: `default_for_replies` or `active`.
fn set(id: &str, field: &str, value: bool) -> (MailAccount, Vec<&'static str>) {
    let mut account = MailAccount {
        id: id.into(),
        ..Default::default()
    };
    match field {
        "active" => {
            account.active = value;
            (account, vec!["active"])
        }
        _ => {
            account.default_for_replies = value;
            (account, vec!["default_for_replies"])
        }
    }
}

fn assert_no_secrets(account: &MailAccount) {
    let imap = account.imap.as_ref().unwrap();
    let smtp = account.smtp.as_ref().unwrap();
    assert_eq!(
        (imap.secret_ref.as_str(), imap.secret_set),
        ("", true),
        "{account:?}"
    );
    assert_eq!(
        (smtp.secret_ref.as_str(), smtp.secret_set),
        ("", true),
        "{account:?}"
    );
}

fn changed(event: &EventEnvelope) -> MailAccountChanged {
    let payload = event.payload.as_ref().unwrap();
    MailAccountChanged::decode(payload.value.as_slice()).unwrap()
}

#[tokio::test]
async fn accounts_hide_their_secrets_and_announce_them_to_mail_ingest() {
    let mesh = Mesh::start().await;
    let tap = EventTap::start(&mesh.gateway, &["mail_account.*"]).await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let created = create(&mesh, &request_id, account("help@example.co.kr"))
        .await
        .unwrap();
    assert_no_secrets(&created);
    assert!(
        created.active && created.default_for_replies,
        "the first account is the default"
    );
    assert_eq!(created.display_name, "고객센터");
    let imap = created.imap.as_ref().unwrap();
    assert_eq!(
        (imap.port, imap.folder.as_str(), imap.poll_interval_seconds),
        (993, "INBOX", 60)
    );
    assert_eq!(created.smtp.as_ref().unwrap().port, 587);
    assert_eq!(
        create(&mesh, &request_id, account("help@example.co.kr"))
            .await
            .unwrap(),
        created,
        "a retry gets the first result"
    );
    refused(
        create(&mesh, &request_id, account("sales@example.co.kr")).await,
        Code::AlreadyExists,
    );
    let taken = refused(
        create(&mesh, "", account("HELP@example.co.kr")).await,
        Code::AlreadyExists,
    );
    assert!(
        taken.message().contains("mail_account.address"),
        "{taken:?}"
    );

    // mail-ingest gets the references; the API never shows them.
    let event = tap
        .wait_for("mail_account.changed of the new account", |e| {
            e.event_type == "mail_account.changed" && e.aggregate_id == created.id
        })
        .await;
    assert_eq!(event.aggregate_version, 1);
    let announced = changed(&event);
    assert!(announced.created);
    let full = announced.mail_account.unwrap();
    assert_eq!(full.imap.unwrap().secret_ref, "env:HELP_IMAP_PASSWORD");
    assert_eq!(full.smtp.unwrap().secret_ref, "file:/run/secrets/help-smtp");
    assert_no_secrets(&get(&mesh, &created.id).await);

    // One field of the settings changes; the stored reference stays.
    let mut change = MailAccount {
        id: created.id.clone(),
        ..Default::default()
    };
    change.smtp = Some(SmtpSettings {
        host: "smtp2.example.co.kr".into(),
        ..Default::default()
    });
    let updated = update(&mesh, change, &["smtp.host"]).await.unwrap();
    assert_eq!(updated.smtp.as_ref().unwrap().host, "smtp2.example.co.kr");
    assert_no_secrets(&updated);
    let event = tap
        .wait_for("the second version", |e| {
            e.aggregate_id == created.id && e.aggregate_version == 2
        })
        .await;
    let smtp = changed(&event).mail_account.unwrap().smtp.unwrap();
    assert_eq!(smtp.secret_ref, "file:/run/secrets/help-smtp");

    // Admins list without references; agents see four fields.
    let second = create(&mesh, "", account("sales@example.co.kr"))
        .await
        .unwrap();
    let admin_list = mesh
        .mail_accounts()
        .await
        .list_mail_accounts(bearer(ListMailAccountsRequest::default(), &mesh.admin()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(admin_list.total_size, 2);
    admin_list.mail_accounts.iter().for_each(assert_no_secrets);
    let agent = mesh.token(&mesh.agent("choi", &[]).await);
    let mut client = mesh.mail_accounts().await;
    let page = client
        .list_mail_accounts(bearer(
            ListMailAccountsRequest {
                page_size: 1,
                ..Default::default()
            },
            &agent,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total_size, 2);
    let seen = &page.mail_accounts[0];
    assert_eq!(
        seen,
        &MailAccount {
            id: created.id.clone(),
            address: "help@example.co.kr".into(),
            display_name: "고객센터".into(),
            active: true,
            ..Default::default()
        }
    );
    let rest = client
        .list_mail_accounts(bearer(
            ListMailAccountsRequest {
                page_size: 1,
                page_token: page.next_page_token,
                ..Default::default()
            },
            &agent,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.mail_accounts[0].id, second.id);
    assert_eq!(rest.next_page_token, "");
    for denied in [
        client
            .get_mail_account(bearer(
                GetMailAccountRequest {
                    mail_account_id: created.id.clone(),
                },
                &agent,
            ))
            .await
            .map(|_| ()),
        client
            .create_mail_account(bearer(
                CreateMailAccountRequest {
                    request_id: String::new(),
                    mail_account: Some(account("agent@example.co.kr")),
                },
                &agent,
            ))
            .await
            .map(|_| ()),
    ] {
        refused(denied, Code::PermissionDenied);
    }

    delete(&mesh, &second.id).await.unwrap();
    let event = tap
        .wait_for("mail_account.deleted", |e| {
            e.event_type == "mail_account.deleted"
        })
        .await;
    let deleted = MailAccountDeleted::decode(event.payload.unwrap().value.as_slice()).unwrap();
    assert_eq!(deleted.address, "sales@example.co.kr");
    assert_eq!(event.aggregate_id, second.id);
    mesh.stop().await;
}

#[tokio::test]
async fn exactly_one_active_account_is_the_default() {
    let mesh = Mesh::start().await;
    let tap = EventTap::start(&mesh.gateway, &["mail_account.*"]).await;
    let help = create(&mesh, "", account("help@example.co.kr"))
        .await
        .unwrap();
    let sales = create(&mesh, "", account("sales@example.co.kr"))
        .await
        .unwrap();
    assert!(help.default_for_replies && !sales.default_for_replies);

    // Setting it on one clears it on the other, announced.
    let (change, paths) = set(&sales.id, "default_for_replies", true);
    assert!(
        update(&mesh, change, &paths)
            .await
            .unwrap()
            .default_for_replies
    );
    assert!(!get(&mesh, &help.id).await.default_for_replies);
    tap.wait_for("help cleared", |e| {
        e.aggregate_id == help.id && e.aggregate_version == 2
    })
    .await;

    // The default cannot be cleared, deactivated while others are active, nor deleted; an
    // inactive account cannot take it.
    for (field, value) in [("default_for_replies", false), ("active", false)] {
        let (change, paths) = set(&sales.id, field, value);
        refused(
            update(&mesh, change, &paths).await,
            Code::FailedPrecondition,
        );
    }
    refused(delete(&mesh, &sales.id).await, Code::FailedPrecondition);
    let (change, paths) = set(&help.id, "active", false);
    assert!(!update(&mesh, change, &paths).await.unwrap().active);
    let (change, paths) = set(&help.id, "default_for_replies", true);
    refused(
        update(&mesh, change, &paths).await,
        Code::FailedPrecondition,
    );

    // The last active account may go inactive, and then there is no default; the first
    // account active again takes it.
    let (change, paths) = set(&sales.id, "active", false);
    let sales_off = update(&mesh, change, &paths).await.unwrap();
    assert!(!sales_off.active && !sales_off.default_for_replies);
    let (change, paths) = set(&help.id, "active", true);
    assert!(
        update(&mesh, change, &paths)
            .await
            .unwrap()
            .default_for_replies
    );
    delete(&mesh, &sales.id).await.unwrap();
    let left = get(&mesh, &help.id).await;
    assert!(left.active && left.default_for_replies);
    mesh.stop().await;
}

#[tokio::test]
async fn bad_account_input_is_named_by_field() {
    let mesh = Mesh::start().await;
    let mut bad = account("help.example.co.kr");
    bad.imap.as_mut().unwrap().secret_ref = "hunter2".into();
    bad.smtp.as_mut().unwrap().port = 70_000;
    invalid(
        create(&mesh, "", bad).await,
        &[
            "mail_account.address",
            "mail_account.imap.secret_ref",
            "mail_account.smtp.port",
        ],
    );
    let mut no_smtp = account("help@example.co.kr");
    no_smtp.smtp = None;
    invalid(create(&mesh, "", no_smtp).await, &["mail_account.smtp"]);
    invalid(
        create(&mesh, "nope", account("help@example.co.kr")).await,
        &["request_id"],
    );
    // Receive-only (no IMAP) and TLS mode NONE are stored: mail-ingest decides on NONE.
    let mut plain = account("help@example.co.kr");
    plain.imap = None;
    plain.smtp.as_mut().unwrap().tls_mode = MailTlsMode::None as i32;
    let created = create(&mesh, "", plain).await.unwrap();
    assert_eq!(created.imap, None);
    assert_eq!(created.smtp.as_ref().unwrap().tls_mode(), MailTlsMode::None);

    let id = created.id.clone();
    let with = |imap: Option<ImapSettings>| MailAccount {
        id: id.clone(),
        imap,
        ..Default::default()
    };
    let new_imap = ImapSettings {
        host: "imap.example.co.kr".into(),
        username: "help".into(),
        ..Default::default()
    };
    for (change, paths, fields) in [
        (with(None), vec![], vec!["update_mask"]),
        (with(None), vec!["secret_set"], vec!["update_mask"]),
        // Single IMAP fields need a host: without one they would silently do nothing.
        (
            with(Some(new_imap.clone())),
            vec!["imap.username"],
            vec!["mail_account.imap.host"],
        ),
        // A new IMAP needs its reference.
        (
            with(Some(new_imap.clone())),
            vec!["imap"],
            vec!["mail_account.imap.secret_ref"],
        ),
        (
            with(Some(ImapSettings {
                port: -1,
                ..new_imap.clone()
            })),
            vec!["imap.host", "imap.username", "imap.port"],
            vec!["mail_account.imap.port", "mail_account.imap.secret_ref"],
        ),
        (
            MailAccount {
                id: "x".into(),
                ..Default::default()
            },
            vec!["address"],
            vec!["mail_account.id"],
        ),
    ] {
        invalid(update(&mesh, change, &paths).await, &fields);
    }
    let missing = MailAccount {
        id: uuid::Uuid::new_v4().to_string(),
        display_name: "없음".into(),
        ..Default::default()
    };
    refused(
        update(&mesh, missing, &["display_name"]).await,
        Code::NotFound,
    );
    refused(
        delete(&mesh, &uuid::Uuid::new_v4().to_string()).await,
        Code::NotFound,
    );
    invalid(delete(&mesh, "x").await, &["mail_account_id"]);
    // Nothing half-written: the account is as created.
    assert_eq!(get(&mesh, &id).await, created);
    mesh.stop().await;
}
