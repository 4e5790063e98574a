//! IMAP fetching against a real Dovecot: mail already in the mailbox and mail arriving later
//! (IDLE) each become one ticket message, with two replicas too and when the fetching one
//! stops; a restarted server is fetched again; the status shows the cursor and failures; a
//! cursor reset ingests nothing twice; STARTTLS and implicit TLS work with a private CA. The
//! accounts use plain IMAP (`allow_insecure_mail`) but for those two, and their password is a
//! `file:` secret, or `env:HOME` in the first test (setting a variable of a test's own needs
//! `unsafe` in edition 2024, which the workspace denies).

use std::time::Duration;

use switchboard_mail_ingest::MailIngestSettings;
use switchboard_platform::testing::eventually;
use switchboard_proto::{
    inbound::v1::{
        FetchMailboxRequest, GetMailboxStatusRequest, ListMailboxStatusesRequest, MailboxState,
        MailboxStatus, ResetMailboxCursorRequest,
    },
    ticket::v1::{
        ImapSettings, MailAccount, MailTlsMode, SmtpSettings, UpdateMailAccountRequest,
        mail_account_service_client::MailAccountServiceClient,
    },
};
use tonic::Code;

use crate::{
    common::{Mesh, bearer, mail},
    support::dovecot::{self, Dovecot},
};

/// Long enough that only IDLE (or a wake-up) explains a prompt fetch.
const NO_POLL: i32 = 3_600;
const WAIT: Duration = Duration::from_secs(30);

fn insecure(settings: &mut MailIngestSettings) {
    settings.allow_insecure_mail = true;
    settings.imap_rescan_seconds = 1;
    settings.imap_lease_seconds = 3;
}

fn replica_named(name: &'static str) -> impl FnOnce(&mut MailIngestSettings) {
    move |settings| {
        insecure(settings);
        settings.replica_name = name.into();
    }
}

fn imap(dovecot: &Dovecot, secret_ref: String, poll: i32) -> ImapSettings {
    ImapSettings {
        host: "127.0.0.1".into(),
        port: i32::from(dovecot.port),
        tls_mode: MailTlsMode::None as i32,
        username: dovecot::USER.into(),
        secret_ref,
        poll_interval_seconds: poll,
        ..Default::default()
    }
}

async fn imap_account(mesh: &Mesh, address: &str, imap: ImapSettings) -> String {
    mesh.account_with(MailAccount {
        address: address.into(),
        display_name: "IMAP 고객센터".into(),
        imap: Some(imap),
        smtp: Some(SmtpSettings {
            host: "smtp.example.co.kr".into(),
            tls_mode: MailTlsMode::Starttls as i32,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
}

fn numbered(n: usize) -> Vec<u8> {
    mail(
        "고객 <customer@example.com>",
        &format!("imap-{n}@example.com"),
        &format!("문의 {n}"),
        &format!("본문 {n}"),
    )
}

/// The mails fetched over IMAP and stored in a ticket: (Message-ID, ticket id).
async fn ingested(mesh: &Mesh) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT mail_message_id, ticket_id::text FROM inbound_messages
         WHERE arrival = 1 AND state = 2 ORDER BY mail_message_id",
    )
    .fetch_all(&mesh.pool)
    .await
    .unwrap()
}

async fn wait_ingested(mesh: &Mesh, count: usize, dovecot: &Dovecot) {
    let done = eventually(WAIT, || async { ingested(mesh).await.len() >= count }).await;
    assert!(
        done,
        "{count} mails ingested, got {:?}; dovecot: {}",
        ingested(mesh).await,
        dovecot.log()
    );
}

/// Every fetched mail is one ticket holding it once; `count` of them.
async fn assert_each_once(mesh: &Mesh, count: usize) {
    let rows = ingested(mesh).await;
    assert_eq!(rows.len(), count, "{rows:?}");
    for (message_id, ticket) in &rows {
        let messages = mesh.messages(ticket).await;
        assert_eq!(messages.len(), 1, "{message_id}: {messages:?}");
        assert_eq!(&messages[0].mail_message_id, message_id);
    }
}

/// The mailbox row as stored (for when the gateway's mail-ingest is stopped).
async fn stored(mesh: &Mesh, account: &str) -> (i64, i64, Option<String>) {
    sqlx::query_as(
        "SELECT last_uid, fetched_count, lease_holder FROM imap_mailboxes
         WHERE mail_account_id = $1::uuid",
    )
    .bind(account)
    .fetch_optional(&mesh.pool)
    .await
    .unwrap()
    .unwrap_or_default()
}

async fn status(mesh: &Mesh, account: &str) -> MailboxStatus {
    mesh.inbound()
        .await
        .get_mailbox_status(bearer(
            GetMailboxStatusRequest {
                mail_account_id: account.into(),
            },
            &mesh.admin(),
        ))
        .await
        .expect("the admin reads the status")
        .into_inner()
        .status
        .unwrap()
}

async fn wait_status(
    mesh: &Mesh,
    account: &str,
    what: &str,
    check: impl Fn(&MailboxStatus) -> bool,
) -> MailboxStatus {
    let reached = eventually(WAIT, || async { check(&status(mesh, account).await) }).await;
    let now = status(mesh, account).await;
    assert!(reached, "the status never showed {what}: {now:?}");
    now
}

#[tokio::test]
async fn mail_before_the_start_and_mail_arriving_later_each_become_one_ticket_message() {
    let mut dovecot = Dovecot::start().await;
    for n in 1..=3 {
        dovecot.deliver(&numbered(n));
    }
    let mesh = Mesh::start_with(insecure).await;
    // An `env:` secret: a variable every test process has (setting one needs `unsafe`), made
    // the user's password.
    let password = std::env::var("HOME").expect("HOME is set");
    dovecot.set_password(&password);
    let secret = "env:HOME".to_owned();
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    wait_ingested(&mesh, 3, &dovecot).await;
    let shown = wait_status(&mesh, &account, "the cursor at 3", |s| s.last_uid == 3).await;
    assert_eq!(shown.state(), MailboxState::Idle);
    assert_ne!(shown.uid_validity, 0);
    assert_eq!((shown.fetched_count, shown.consecutive_failures), (3, 0));
    assert!(shown.last_success_time.is_some() && shown.next_fetch_time.is_some());
    assert!(!shown.lease_holder.is_empty());
    let seen = eventually(WAIT, || async { dovecot.messages() == (3, 3) }).await;
    assert!(
        seen,
        "marked \\Seen, none deleted: {:?}",
        dovecot.messages()
    );

    // Arriving while the fetcher IDLEs (its poll is an hour away).
    dovecot.deliver(&numbered(4));
    wait_ingested(&mesh, 4, &dovecot).await;
    assert_each_once(&mesh, 4).await;
    wait_status(&mesh, &account, "the cursor at 4", |s| {
        s.last_uid == 4 && s.fetched_count == 4
    })
    .await;
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn without_idle_the_mailbox_is_polled() {
    let mut dovecot = Dovecot::start_without_idle().await;
    dovecot.deliver(&numbered(1));
    let mesh = Mesh::start_with(insecure).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    // The shortest interval accounts allow.
    let account = imap_account(&mesh, "imap@center.example", imap(&dovecot, secret, 10)).await;
    wait_ingested(&mesh, 1, &dovecot).await;
    dovecot.deliver(&numbered(2));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        ingested(&mesh).await.len(),
        1,
        "no IDLE: only the poll fetches"
    );
    wait_ingested(&mesh, 2, &dovecot).await;
    assert_each_once(&mesh, 2).await;
    wait_status(&mesh, &account, "the cursor at 2", |s| s.last_uid == 2).await;
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn two_replicas_ingest_each_mail_once_and_the_other_takes_over() {
    let mut dovecot = Dovecot::start().await;
    for n in 1..=3 {
        dovecot.deliver(&numbered(n));
    }
    let mut mesh = Mesh::start_with(replica_named("first")).await;
    let second = mesh.replica(replica_named("second")).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    wait_ingested(&mesh, 3, &dovecot).await;
    for n in 4..=5 {
        dovecot.deliver(&numbered(n));
    }
    wait_ingested(&mesh, 5, &dovecot).await;
    assert_each_once(&mesh, 5).await;
    let settled = eventually(WAIT, || async { stored(&mesh, &account).await.0 == 5 }).await;
    assert!(settled, "{:?}", stored(&mesh, &account).await);
    let (_, fetched, holder) = stored(&mesh, &account).await;
    assert_eq!(fetched, 5, "no mail fetched twice");
    let holder = holder.expect("a replica holds the lease");

    // The holder stops; the other takes the account over.
    let other = if holder == "first" {
        mesh.replace_mail_ingest(second).await;
        "second"
    } else {
        assert_eq!(holder, "second");
        second
            .stop_keeping_schema()
            .await
            .expect("the second replica stops");
        "first"
    };
    for n in 6..=7 {
        dovecot.deliver(&numbered(n));
    }
    wait_ingested(&mesh, 7, &dovecot).await;
    assert_each_once(&mesh, 7).await;
    let taken = eventually(WAIT, || async {
        stored(&mesh, &account).await == (7, 7, Some(other.to_owned()))
    })
    .await;
    assert!(
        taken,
        "{other} fetches: {:?}",
        stored(&mesh, &account).await
    );
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn the_lease_of_a_replica_that_died_is_taken_over_when_it_expires() {
    let mut dovecot = Dovecot::start().await;
    dovecot.deliver(&numbered(1));
    let mesh = Mesh::start_with(replica_named("alive")).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    wait_ingested(&mesh, 1, &dovecot).await;

    // A replica took the lease over and died at once: it never renews it.
    sqlx::query(
        "UPDATE imap_mailboxes SET lease_holder = 'dead', lease_expires = now() + interval '5 s'
         WHERE mail_account_id = $1::uuid",
    )
    .bind(&account)
    .execute(&mesh.pool)
    .await
    .unwrap();
    // The live one notices at its next renewal (a third of its 3 s lease) and stops fetching.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    dovecot.deliver(&numbered(2));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        ingested(&mesh).await.len(),
        1,
        "fetched while another held the lease"
    );
    assert_eq!(stored(&mesh, &account).await.2.as_deref(), Some("dead"));
    wait_ingested(&mesh, 2, &dovecot).await;
    assert_each_once(&mesh, 2).await;
    let back = eventually(WAIT, || async {
        stored(&mesh, &account).await == (2, 2, Some("alive".into()))
    })
    .await;
    assert!(back, "{:?}", stored(&mesh, &account).await);
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn a_restarted_server_is_fetched_again() {
    let mut dovecot = Dovecot::start().await;
    dovecot.deliver(&numbered(1));
    let mesh = Mesh::start_with(insecure).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    wait_ingested(&mesh, 1, &dovecot).await;

    dovecot.stop().await;
    let down = wait_status(&mesh, &account, "the failure", |s| {
        s.state() == MailboxState::Failing
    })
    .await;
    assert!(down.consecutive_failures >= 1 && !down.last_error.is_empty());
    assert!(down.last_error_time.is_some());
    dovecot.deliver(&numbered(2));
    dovecot.run().await;
    wait_ingested(&mesh, 2, &dovecot).await;
    assert_each_once(&mesh, 2).await;
    let back = wait_status(&mesh, &account, "the recovery", |s| {
        s.state() == MailboxState::Idle && s.last_uid == 2
    })
    .await;
    assert_eq!(
        (back.consecutive_failures, back.last_error.as_str()),
        (0, "")
    );
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn a_new_uidvalidity_fetches_the_folder_again_and_stores_nothing_twice() {
    let mut dovecot = Dovecot::start().await;
    for n in 1..=2 {
        dovecot.deliver(&numbered(n));
    }
    let mesh = Mesh::start_with(insecure).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    wait_ingested(&mesh, 2, &dovecot).await;
    let before = wait_status(&mesh, &account, "the cursor at 2", |s| s.last_uid == 2).await;

    dovecot.stop().await;
    dovecot.forget_uids();
    dovecot.deliver(&numbered(3));
    dovecot.run().await;
    let after = wait_status(
        &mesh,
        &account,
        "all three fetched under the new validity",
        |s| s.uid_validity != before.uid_validity && s.last_uid == 3 && s.fetched_count == 5,
    )
    .await;
    assert_eq!(after.consecutive_failures, 0);
    assert_each_once(&mesh, 3).await;
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn the_status_shows_a_wrong_password_until_it_is_fixed_and_fetched() {
    let mut dovecot = Dovecot::start().await;
    dovecot.deliver(&numbered(1));
    let mesh = Mesh::start_with(insecure).await;
    let secret = dovecot.secret_file("password", "not-the-password");
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    let failing = wait_status(&mesh, &account, "the login failure", |s| {
        s.state() == MailboxState::Failing
    })
    .await;
    assert!(failing.consecutive_failures >= 1);
    assert!(
        failing.last_error.contains("login"),
        "{}",
        failing.last_error
    );
    assert!(!failing.last_error.contains("not-the-password"));
    assert_eq!(failing.last_uid, 0);

    // Fixed, and fetched at once on request (instead of after the backoff).
    dovecot.secret_file("password", dovecot::PASSWORD);
    let asked = mesh
        .inbound()
        .await
        .fetch_mailbox(bearer(
            FetchMailboxRequest {
                mail_account_id: account.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .expect("the admin asks for a fetch")
        .into_inner()
        .status
        .unwrap();
    assert!(asked.next_fetch_time.is_some());
    wait_ingested(&mesh, 1, &dovecot).await;
    let fixed = wait_status(&mesh, &account, "the success", |s| {
        s.state() == MailboxState::Idle && s.last_uid == 1
    })
    .await;
    assert_eq!(fixed.consecutive_failures, 0);

    // An account without IMAP settings is listed, disabled; FetchMailbox refuses it.
    let plain = mesh.account("mta@center.example").await;
    let refused = mesh
        .inbound()
        .await
        .fetch_mailbox(bearer(
            FetchMailboxRequest {
                mail_account_id: plain.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let unknown = mesh
        .inbound()
        .await
        .get_mailbox_status(bearer(
            GetMailboxStatusRequest {
                mail_account_id: uuid::Uuid::new_v4().to_string(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let list = |page_token: String| {
        let mesh = &mesh;
        async move {
            mesh.inbound()
                .await
                .list_mailbox_statuses(bearer(
                    ListMailboxStatusesRequest {
                        page_size: 1,
                        page_token,
                    },
                    &mesh.admin(),
                ))
                .await
                .expect("the admin lists the mailboxes")
                .into_inner()
        }
    };
    let first = list(String::new()).await;
    assert_eq!(first.total_size, 2);
    assert_eq!(first.statuses[0].address, "imap@center.example");
    assert_eq!(first.statuses[0].state(), MailboxState::Idle);
    let second = list(first.next_page_token).await;
    assert_eq!(second.statuses[0].address, "mta@center.example");
    assert_eq!(second.statuses[0].state(), MailboxState::Disabled);
    assert!(second.next_page_token.is_empty());
    drop(dovecot);
    mesh.stop().await;
}

/// Sets the account's `active` through the gateway and waits for mail-ingest to know.
async fn set_active(mesh: &Mesh, account: &str, active: bool) {
    MailAccountServiceClient::new(mesh.gateway.channel().await)
        .update_mail_account(bearer(
            UpdateMailAccountRequest {
                mail_account: Some(MailAccount {
                    id: account.into(),
                    active,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["active".into()],
                }),
            },
            &mesh.admin(),
        ))
        .await
        .expect("the admin updates the account");
    let known = eventually(WAIT, || async {
        sqlx::query_scalar::<_, bool>("SELECT active FROM mail_accounts WHERE id = $1::uuid")
            .bind(account)
            .fetch_one(&mesh.pool)
            .await
            .unwrap()
            == active
    })
    .await;
    assert!(known, "mail-ingest never learnt of the change");
}

#[tokio::test]
async fn a_deactivated_account_is_not_fetched_until_it_is_active_again() {
    let mut dovecot = Dovecot::start().await;
    dovecot.deliver(&numbered(1));
    let mesh = Mesh::start_with(insecure).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    wait_ingested(&mesh, 1, &dovecot).await;

    set_active(&mesh, &account, false).await;
    // Within the rescan (1 s here) the fetcher stops and gives the lease up.
    let released = eventually(WAIT, || async { stored(&mesh, &account).await.2.is_none() }).await;
    assert!(released, "{:?}", stored(&mesh, &account).await);
    let disabled = status(&mesh, &account).await;
    assert_eq!(disabled.state(), MailboxState::Disabled);
    dovecot.deliver(&numbered(2));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        ingested(&mesh).await.len(),
        1,
        "an inactive account is not fetched"
    );
    let refused = mesh
        .inbound()
        .await
        .fetch_mailbox(bearer(
            FetchMailboxRequest {
                mail_account_id: account.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);

    set_active(&mesh, &account, true).await;
    wait_ingested(&mesh, 2, &dovecot).await;
    assert_each_once(&mesh, 2).await;
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn plain_imap_is_refused_unless_insecure_mail_is_allowed() {
    let dovecot = Dovecot::start().await;
    let mesh = Mesh::start_with(|settings| settings.imap_rescan_seconds = 1).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    let refused = wait_status(&mesh, &account, "the refusal", |s| {
        s.state() == MailboxState::Failing
    })
    .await;
    assert!(
        refused.last_error.contains("allow_insecure_mail"),
        "{}",
        refused.last_error
    );
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn a_cursor_reset_to_zero_ingests_nothing_twice() {
    let mut dovecot = Dovecot::start().await;
    for n in 1..=2 {
        dovecot.deliver(&numbered(n));
    }
    let mesh = Mesh::start_with(insecure).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    let account = imap_account(
        &mesh,
        "imap@center.example",
        imap(&dovecot, secret, NO_POLL),
    )
    .await;
    wait_ingested(&mesh, 2, &dovecot).await;
    wait_status(&mesh, &account, "the cursor at 2", |s| s.last_uid == 2).await;

    let reset = mesh
        .inbound()
        .await
        .reset_mailbox_cursor(bearer(
            ResetMailboxCursorRequest {
                mail_account_id: account.clone(),
                last_uid: 0,
            },
            &mesh.admin(),
        ))
        .await
        .expect("the admin resets the cursor")
        .into_inner()
        .status
        .unwrap();
    assert_eq!(reset.last_uid, 0);
    // Fetched again (4 in all), stored once each.
    wait_status(&mesh, &account, "the second fetch", |s| {
        s.last_uid == 2 && s.fetched_count == 4
    })
    .await;
    assert_each_once(&mesh, 2).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbound_messages")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    drop(dovecot);
    mesh.stop().await;
}

/// A mesh trusting `dovecot`'s certificate, plain IMAP not allowed.
async fn tls_mesh(dovecot: &Dovecot) -> Mesh {
    let ca_file = dovecot.ca_file();
    Mesh::start_with(move |settings| {
        settings.imap_rescan_seconds = 1;
        settings.mail_ca_file = ca_file;
    })
    .await
}

async fn fetched_over_tls(tls_mode: MailTlsMode) {
    let mut dovecot = Dovecot::start_tls().await;
    dovecot.deliver(&numbered(1));
    let mesh = tls_mesh(&dovecot).await;
    let secret = dovecot.secret_file("password", dovecot::PASSWORD);
    let mut settings = imap(&dovecot, secret, NO_POLL);
    settings.host = "localhost".into();
    settings.tls_mode = tls_mode as i32;
    if tls_mode == MailTlsMode::Implicit {
        settings.port = i32::from(dovecot.imaps_port);
    }
    let account = imap_account(&mesh, "imap@center.example", settings).await;
    wait_ingested(&mesh, 1, &dovecot).await;
    let shown = wait_status(&mesh, &account, "the cursor at 1", |s| s.last_uid == 1).await;
    assert_eq!(shown.consecutive_failures, 0);
    // Dovecot marks logins over TLS so (plain ones from loopback say "secured").
    assert!(
        dovecot.log().contains("method=PLAIN") && dovecot.log().contains(", TLS"),
        "{}",
        dovecot.log()
    );
    drop(dovecot);
    mesh.stop().await;
}

#[tokio::test]
async fn mail_is_fetched_over_starttls() {
    fetched_over_tls(MailTlsMode::Starttls).await;
}

#[tokio::test]
async fn mail_is_fetched_over_implicit_tls() {
    fetched_over_tls(MailTlsMode::Implicit).await;
}
