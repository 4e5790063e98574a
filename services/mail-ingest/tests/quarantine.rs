//! The quarantine: a mail over a limit or that cannot be parsed or placed is kept as received,
//! answered as delivered, listed for admins, never blocks the mail behind it, and can be
//! processed again.

use switchboard_proto::{
    inbound::v1::{ListQuarantinedMessagesRequest, ReprocessQuarantinedMessageRequest},
    ticket::v1::TicketIngestOutcome,
};
use tonic::Code;

use crate::common::{Mesh, bearer, mail};

/// A mail of `depth` nested multiparts.
fn nested(depth: usize) -> Vec<u8> {
    let mut raw =
        b"From: bomb@example.com\r\nSubject: nested\r\nMessage-ID: <bomb@example.com>\r\n".to_vec();
    for level in 0..depth {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n")
                .as_bytes(),
        );
    }
    raw.extend_from_slice(b"Content-Type: text/plain\r\n\r\nbottom\r\n");
    for level in (0..depth).rev() {
        raw.extend_from_slice(format!("--b{level}--\r\n").as_bytes());
    }
    raw
}

#[tokio::test]
async fn quarantined_mail_is_kept_listed_and_never_blocks_the_mail_behind_it() {
    let mesh = Mesh::start().await;
    let account = mesh.account("help@center.example").await;
    let admin = mesh.admin();
    let bomb = mesh.submit(&account, &nested(1_000)).await.unwrap();
    assert!(bomb.quarantined, "{bomb:?}");
    assert!(bomb.quarantine_reason.contains("nested"), "{bomb:?}");
    assert!(bomb.ticket_id.is_empty());
    // Submitted again (an MTA retrying): the same quarantined original, nothing new.
    let again = mesh.submit(&account, &nested(1_000)).await.unwrap();
    assert_eq!(again.inbound_message_id, bomb.inbound_message_id);
    // No sender at all: the ticket service could not place it.
    let nobody = mesh
        .submit(
            &account,
            b"Subject: who?\r\nMessage-ID: <nobody@x>\r\n\r\nhello\r\n",
        )
        .await
        .unwrap();
    assert!(nobody.quarantined, "{nobody:?}");
    assert!(nobody.quarantine_reason.contains("sender"), "{nobody:?}");
    let behind = mesh
        .submit(
            &account,
            &mail("kim@example.com", "ok@example.com", "정상 메일", "본문"),
        )
        .await
        .unwrap();
    assert_eq!(behind.outcome(), TicketIngestOutcome::Created);

    let listed = mesh
        .inbound()
        .await
        .list_quarantined_messages(bearer(
            ListQuarantinedMessagesRequest {
                page_size: 1,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 2);
    assert_eq!(listed.quarantined_messages.len(), 1);
    assert_eq!(listed.quarantined_messages[0].id, nobody.inbound_message_id);
    assert_eq!(listed.quarantined_messages[0].raw_subject, "who?");
    let second = mesh
        .inbound()
        .await
        .list_quarantined_messages(bearer(
            ListQuarantinedMessagesRequest {
                page_size: 1,
                page_token: listed.next_page_token.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.quarantined_messages[0].id, bomb.inbound_message_id);
    assert!(second.quarantined_messages[0].size_bytes > 40_000);
    assert!(second.next_page_token.is_empty());

    // Processed again, the sender-less mail is still not placeable: it stays.
    let retried = mesh
        .inbound()
        .await
        .reprocess_quarantined_message(bearer(
            ReprocessQuarantinedMessageRequest {
                id: nobody.inbound_message_id.clone(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(retried.quarantined);
    // Agents may neither list nor reprocess.
    mesh.gateway
        .create_agent(
            "kim",
            switchboard_proto::gateway::v1::AgentRole::Agent,
            &[],
            &[],
        )
        .await;
    let refused = mesh
        .inbound()
        .await
        .list_quarantined_messages(bearer(
            ListQuarantinedMessagesRequest::default(),
            &mesh.gateway.token("kim"),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let missing = mesh
        .inbound()
        .await
        .reprocess_quarantined_message(bearer(
            ReprocessQuarantinedMessageRequest {
                id: behind.inbound_message_id.clone(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        missing.code(),
        Code::NotFound,
        "an ingested mail is not quarantined"
    );
    mesh.stop().await;
}

#[tokio::test]
async fn a_quarantined_mail_reprocessed_by_an_admin_becomes_a_ticket() {
    let mesh = Mesh::start().await;
    let account = mesh.account("help@center.example").await;
    // Parseable, but nested deeper than the limit of 32: the admin looks and reprocesses it.
    let deep = nested(40);
    let kept = mesh.submit(&account, &deep).await.unwrap();
    assert!(kept.quarantined, "{kept:?}");
    let result = mesh
        .inbound()
        .await
        .reprocess_quarantined_message(bearer(
            ReprocessQuarantinedMessageRequest {
                id: kept.inbound_message_id.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(!result.quarantined, "{result:?}");
    assert_eq!(result.outcome(), TicketIngestOutcome::Created);
    assert_eq!(mesh.ticket(&result.ticket_id).await.subject, "nested");
    let listed = mesh
        .inbound()
        .await
        .list_quarantined_messages(bearer(
            ListQuarantinedMessagesRequest::default(),
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 0, "no longer in the quarantine");
    mesh.stop().await;
}
