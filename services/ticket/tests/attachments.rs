//! Attachments through the gateway: upload, attach to a comment, download byte for byte;
//! contents stored once; other groups' attachments and other agents' uploads answer as
//! missing; contents deleted with their last reference. What is refused is in `refusals`.

mod refusals;

use sha2::{Digest, Sha256};
use switchboard_platform::error::violated_fields;
use switchboard_proto::ticket::v1::ResolutionReason;
use tonic::{Code, Status};

use crate::common::Mesh;

const MIB: usize = 1024 * 1024;

/// `len` bytes that repeat nowhere (xorshift), after `prefix`.
pub(crate) fn content(prefix: &[u8], len: usize, seed: u64) -> Vec<u8> {
    // Odd, as xorshift needs a non-zero state, and distinct for distinct seeds.
    let mut state = (seed << 1) | 1;
    let mut bytes = prefix.to_vec();
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

pub(crate) fn pdf(len: usize, seed: u64) -> Vec<u8> {
    content(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", len, seed)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

pub(crate) fn assert_invalid(result: Result<impl std::fmt::Debug, Status>, field: &str) -> Status {
    let status = result.expect_err(field);
    assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
    assert_eq!(violated_fields(&status), [field], "{status:?}");
    status
}

#[tokio::test]
async fn an_upload_is_attached_and_downloaded_byte_for_byte() {
    let mesh = Mesh::start().await;
    let group = mesh.group("상담1팀").await;
    let kim = mesh.agent_token("kim", &group.id).await;
    let bytes = pdf(5 * MIB / 2, 1);
    let name = "견적서 (최종본) 2026년 12월.pdf";

    let upload = mesh.upload(&kim, name, "", &bytes).await.unwrap();
    assert_eq!(upload.file_name, name);
    assert_eq!(upload.content_type, "application/pdf");
    assert_eq!(upload.size_bytes, bytes.len() as i64);
    assert_eq!(upload.sha256, sha256_hex(&bytes));
    assert!(
        upload.download_ref.is_empty(),
        "an upload is not downloadable"
    );

    let ticket = mesh.create(&kim, &group.id, "견적 문의").await.unwrap();
    let message = mesh
        .comment_with(&kim, &ticket.id, &[&upload.id])
        .await
        .unwrap();
    let [attached] = message.attachments.as_slice() else {
        panic!("one attachment: {:?}", message.attachments);
    };
    assert_ne!(
        attached.id, upload.id,
        "the attachment is the message's own"
    );
    assert_eq!(attached.download_ref, attached.id);
    assert_eq!(
        (
            &attached.file_name,
            &attached.content_type,
            attached.size_bytes,
            &attached.sha256
        ),
        (
            &upload.file_name,
            &upload.content_type,
            upload.size_bytes,
            &upload.sha256
        )
    );

    let downloaded = mesh.download(&kim, &attached.download_ref).await.unwrap();
    assert_eq!(&downloaded.attachment, attached);
    assert_eq!(downloaded.chunks.len(), 3);
    assert!(
        downloaded
            .chunks
            .iter()
            .all(|c| !c.is_empty() && c.len() <= MIB)
    );
    assert!(downloaded.content() == bytes, "the content differs");

    // The admin and a service with tickets:read read it too.
    let admin = mesh
        .download(&mesh.admin(), &attached.download_ref)
        .await
        .unwrap();
    assert!(admin.content() == bytes);
    let (_, crm) = mesh.gateway.create_api_key("crm", &["tickets:read"]).await;
    assert!(
        mesh.download(&crm, &attached.download_ref)
            .await
            .unwrap()
            .content()
            == bytes
    );

    // The message as listed later shows the same attachment.
    let listed = mesh.download(&kim, &attached.id).await.unwrap();
    assert_eq!(listed.attachment.file_name, name);
    mesh.stop().await;
}

#[tokio::test]
async fn the_same_content_is_stored_once() {
    let mesh = Mesh::start().await;
    let group = mesh.group("상담2팀").await;
    let kim = mesh.agent_token("kim", &group.id).await;
    let lee = mesh.agent_token("lee", &group.id).await;
    let bytes = content(b"", 300_000, 2);

    let first = mesh.upload(&kim, "log.bin", "", &bytes).await.unwrap();
    let second = mesh.upload(&lee, "same.bin", "", &bytes).await.unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(mesh.blob_count().await, 1);

    // One upload may go into several messages within its 24 hours.
    let ticket = mesh.create(&kim, &group.id, "로그 확인").await.unwrap();
    let one = mesh
        .comment_with(&kim, &ticket.id, &[&first.id])
        .await
        .unwrap();
    let two = mesh
        .comment_with(&kim, &ticket.id, &[&first.id])
        .await
        .unwrap();
    assert_ne!(one.attachments[0].id, two.attachments[0].id);
    assert_eq!(mesh.blob_count().await, 1);
    let other = mesh
        .upload(&kim, "other.bin", "", &content(b"", 10, 3))
        .await
        .unwrap();
    assert_ne!(other.sha256, first.sha256);
    assert_eq!(mesh.blob_count().await, 2);
    mesh.stop().await;
}

#[tokio::test]
async fn other_groups_attachments_and_other_agents_uploads_answer_as_missing() {
    let mesh = Mesh::start().await;
    let a = mesh.group("A팀").await;
    let b = mesh.group("B팀").await;
    let kim = mesh.agent_token("kim", &a.id).await;
    let lee = mesh.agent_token("lee", &b.id).await;
    let upload = mesh
        .upload(&kim, "계약서.pdf", "", &pdf(1000, 4))
        .await
        .unwrap();
    let ticket_a = mesh.create(&kim, &a.id, "계약 문의").await.unwrap();
    let message = mesh
        .comment_with(&kim, &ticket_a.id, &[&upload.id])
        .await
        .unwrap();
    let download_ref = &message.attachments[0].download_ref;

    let foreign = mesh.download(&lee, download_ref).await.err().unwrap();
    let missing = mesh
        .download(&lee, &uuid::Uuid::now_v7().to_string())
        .await
        .err()
        .unwrap();
    assert_eq!(foreign.code(), Code::NotFound);
    assert_eq!(
        (foreign.code(), foreign.message()),
        (missing.code(), missing.message())
    );
    // An upload's id is no download ref, even for its uploader.
    let upload_ref = mesh.download(&kim, &upload.id).await.err().unwrap();
    assert_eq!(upload_ref.code(), Code::NotFound);
    assert_invalid(
        mesh.download(&kim, "../etc/passwd").await.map(|_| ()),
        "download_ref",
    );

    // Lee cannot attach kim's upload: it answers as an id that was never uploaded.
    let ticket_b = mesh.create(&lee, &b.id, "다른 팀 문의").await.unwrap();
    let stolen = assert_invalid(
        mesh.comment_with(&lee, &ticket_b.id, &[&upload.id]).await,
        "attachment_ids[0]",
    );
    let never = assert_invalid(
        mesh.comment_with(&lee, &ticket_b.id, &[&uuid::Uuid::now_v7().to_string()])
            .await,
        "attachment_ids[0]",
    );
    assert_eq!(stolen.message(), never.message());
    // Nor can anyone repeat an id or name something that is not one.
    assert_invalid(
        mesh.comment_with(&kim, &ticket_a.id, &[&upload.id, &upload.id])
            .await,
        "attachment_ids[1]",
    );
    assert_invalid(
        mesh.comment_with(&kim, &ticket_a.id, &["nope"]).await,
        "attachment_ids[0]",
    );
    // An expired upload is gone for its uploader too.
    mesh.expire_uploads().await;
    assert_invalid(
        mesh.comment_with(&kim, &ticket_a.id, &[&upload.id]).await,
        "attachment_ids[0]",
    );
    // Services do not upload.
    let refused = mesh
        .upload(&mesh.ingest_key, "a.txt", "", b"x")
        .await
        .err()
        .unwrap();
    assert_eq!(refused.code(), Code::PermissionDenied);
    mesh.stop().await;
}

#[tokio::test]
async fn contents_go_with_their_last_reference() {
    let mesh = Mesh::start().await;
    let group = mesh.group("스팸팀").await;
    let kim = mesh.agent_token("kim", &group.id).await;
    let only_spam = mesh
        .upload(&kim, "x.bin", "", &content(b"", 5000, 8))
        .await
        .unwrap();
    let shared = mesh
        .upload(&kim, "y.bin", "", &content(b"", 5000, 9))
        .await
        .unwrap();
    let spam = mesh.create(&kim, &group.id, "광고").await.unwrap();
    let kept = mesh.create(&kim, &group.id, "정상 문의").await.unwrap();
    let spam_message = mesh
        .comment_with(&kim, &spam.id, &[&only_spam.id, &shared.id])
        .await
        .unwrap();
    let kept_message = mesh
        .comment_with(&kim, &kept.id, &[&shared.id])
        .await
        .unwrap();
    assert_eq!(mesh.blob_count().await, 2);

    // The uploads are still live: both contents stay.
    delete_spam(&mesh, &kim, &spam.id).await;
    assert_eq!(mesh.blob_count().await, 2);
    let gone = mesh
        .download(&kim, &spam_message.attachments[0].download_ref)
        .await;
    assert_eq!(gone.err().unwrap().code(), Code::NotFound);

    // Once the uploads expire, the next delete sweeps them and the content only they held.
    mesh.expire_uploads().await;
    let other = mesh.create(&kim, &group.id, "광고 2").await.unwrap();
    delete_spam(&mesh, &kim, &other.id).await;
    let left: Vec<(String,)> = sqlx::query_as("SELECT encode(sha256, 'hex') FROM blobs")
        .fetch_all(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(left, [(shared.sha256.clone(),)]);
    let uploads: i64 = sqlx::query_scalar("SELECT count(*) FROM uploads")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(uploads, 0);
    let still = mesh
        .download(&kim, &kept_message.attachments[0].download_ref)
        .await
        .unwrap();
    assert_eq!(still.content(), content(b"", 5000, 9));
    mesh.stop().await;
}

async fn delete_spam(mesh: &Mesh, token: &str, id: &str) {
    mesh.resolve(token, id, ResolutionReason::Spam)
        .await
        .unwrap();
    mesh.delete(token, id).await.unwrap();
}
