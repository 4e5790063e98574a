//! Attachments through the gateway: upload, attach to a comment, download byte for byte;
//! contents stored once; other groups' attachments and other agents' uploads answer as
//! missing; bad and oversized uploads named; contents deleted with the last reference.

use prost_types::Timestamp;
use sha2::{Digest, Sha256};
use switchboard_platform::error::violated_fields;
use switchboard_proto::ticket::v1::{
    IngestAttachment, IngestTicketMessageRequest, IngestTicketMessageResponse, ResolutionReason,
    TicketChannel, TicketRequester, UploadTicketAttachmentRequest,
};
use tonic::{Code, Status};

use crate::common::{
    Mesh,
    attachment_clients::{chunk, file_parts, metadata},
    bearer,
};

const MIB: usize = 1024 * 1024;

/// `len` bytes that repeat nowhere (xorshift), after `prefix`.
fn content(prefix: &[u8], len: usize, seed: u64) -> Vec<u8> {
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

fn pdf(len: usize, seed: u64) -> Vec<u8> {
    content(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", len, seed)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn assert_invalid(result: Result<impl std::fmt::Debug, Status>, field: &str) -> Status {
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
async fn bad_uploads_are_refused_naming_the_field() {
    let mesh = Mesh::start().await;
    let kim = mesh.agent_token("kim", "").await;
    let (mesh_ref, kim) = (&mesh, kim.as_str());
    let upload = move |parts: Vec<UploadTicketAttachmentRequest>| mesh_ref.upload_parts(kim, parts);

    assert_invalid(upload(vec![chunk(b"x")]).await, "metadata");
    assert_invalid(upload(vec![]).await, "metadata");
    assert_invalid(
        upload(vec![metadata("a.txt", "", 0), metadata("a.txt", "", 0)]).await,
        "metadata",
    );
    assert_invalid(
        upload(vec![metadata("a.bin", "", 0), chunk(&vec![0; MIB + 1])]).await,
        "chunk",
    );
    assert_invalid(
        upload(vec![metadata("a.bin", "", 0), chunk(b"")]).await,
        "chunk",
    );
    let long = format!("{}.txt", "가".repeat(252));
    for name in ["", "folder/a.txt", "..\\a.txt", "a\u{0}.txt", long.as_str()] {
        assert_invalid(
            upload(vec![metadata(name, "", 0), chunk(b"x")]).await,
            "metadata.file_name",
        );
    }
    let mut short = file_parts("a.txt", "", b"hello", 2);
    short[0] = metadata("a.txt", "", 6);
    assert_invalid(upload(short).await, "metadata.size_bytes");
    assert_invalid(
        upload(vec![metadata("a.txt", "text plain", 0)]).await,
        "metadata.content_type",
    );

    // A PDF declared as a PNG, and an executable named as text.
    let lie = assert_invalid(
        upload(file_parts("scan.png", "image/png", &pdf(5000, 5), 4096)).await,
        "metadata.content_type",
    );
    assert!(
        lie.message().contains("image/png") && lie.message().contains("PDF"),
        "{}",
        lie.message()
    );
    let elf = content(b"\x7fELF\x02\x01\x01\0", 2000, 6);
    assert_invalid(
        upload(file_parts("readme.txt", "", &elf, 1000)).await,
        "metadata.content_type",
    );
    // Text is not required to be UTF-8 (EUC-KR is common); it is stored as given.
    let euc_kr = b"\xbe\xc8\xb3\xe7\xc7\xcf\xbc\xbc\xbf\xe4".to_vec();
    let text = upload(file_parts(
        "안내.txt",
        "text/plain; charset=EUC-KR",
        &euc_kr,
        4,
    ))
    .await
    .unwrap();
    assert_eq!(text.content_type, "text/plain; charset=euc-kr");
    mesh.stop().await;
}

#[tokio::test]
async fn oversized_files_are_refused_without_reading_on() {
    let mesh = Mesh::start_with(|settings| settings.attachment_max_bytes = 1024).await;
    let kim = mesh.agent_token("kim", "").await;
    // The stream stays open after the chunk that crosses the limit: only an answer that does
    // not wait for the end arrives in time.
    let parts = vec![
        metadata("big.bin", "", 0),
        chunk(&[1; 600]),
        chunk(&[2; 600]),
    ];
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        mesh.upload_parts_open(&kim, parts),
    )
    .await
    .expect("the service answers before the stream ends");
    assert_eq!(answer.err().unwrap().code(), Code::ResourceExhausted);
    let announced = mesh
        .upload_parts_open(&kim, vec![metadata("big.bin", "", 1025)])
        .await;
    assert_eq!(announced.err().unwrap().code(), Code::ResourceExhausted);
    let fits = mesh.upload(&kim, "fits.bin", "", &[3; 1024]).await.unwrap();
    assert_eq!(fits.size_bytes, 1024);

    // Ingested mail is held to the same limit, naming the attachment.
    let too_big = ingest(&mesh, vec![attached("a.bin", "", vec![0; 1025])])
        .await
        .err()
        .unwrap();
    assert_eq!(too_big.code(), Code::ResourceExhausted);
    assert!(
        too_big.message().contains("attachments[0].content"),
        "{too_big:?}"
    );
    mesh.stop().await;
}

#[tokio::test]
async fn ingested_attachments_keep_the_last_path_component_and_a_truthful_type() {
    let mesh = Mesh::start().await;
    let bytes = pdf(2000, 7);
    let request = help_center(vec![
        attached("C:\\Users\\고객\\견적서.pdf", "IMAGE/PNG", bytes.clone()),
        IngestAttachment {
            content_id: "logo@example.co.kr".into(),
            ..attached("logo.png", "", b"\x89PNG\r\n\x1a\n\0\0".to_vec())
        },
    ]);
    let response = mesh
        .ingest()
        .await
        .ingest_ticket_message(bearer(request, &mesh.ingest_key))
        .await
        .unwrap()
        .into_inner();
    assert!(!response.ticket_id.is_empty());
    let admin = mesh.admin();
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id::text, file_name, content_type FROM attachments ORDER BY position",
    )
    .fetch_all(&mesh.pool)
    .await
    .unwrap();
    let names: Vec<_> = rows
        .iter()
        .map(|(_, name, kind)| (name.as_str(), kind.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("견적서.pdf", "application/pdf"),
            ("logo.png", "application/octet-stream")
        ]
    );
    let downloaded = mesh.download(&admin, &rows[0].0).await.unwrap();
    assert!(downloaded.content() == bytes);
    assert_eq!(
        mesh.download(&admin, &rows[1].0)
            .await
            .unwrap()
            .attachment
            .content_id,
        "logo@example.co.kr"
    );

    let bad = ingest(&mesh, vec![attached("folder/", "", vec![1])]).await;
    assert_invalid(bad, "attachments[0].file_name");
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

async fn ingest(
    mesh: &Mesh,
    attachments: Vec<IngestAttachment>,
) -> Result<IngestTicketMessageResponse, Status> {
    let request = bearer(help_center(attachments), &mesh.ingest_key);
    let response = mesh.ingest().await.ingest_ticket_message(request).await?;
    Ok(response.into_inner())
}

fn attached(file_name: &str, content_type: &str, content: Vec<u8>) -> IngestAttachment {
    IngestAttachment {
        file_name: file_name.into(),
        content_type: content_type.into(),
        content,
        content_id: String::new(),
    }
}

/// A help-center inquiry (which always makes a new ticket) with `attachments`.
fn help_center(attachments: Vec<IngestAttachment>) -> IngestTicketMessageRequest {
    IngestTicketMessageRequest {
        dedup_key: format!("helpcenter:{}", uuid::Uuid::now_v7()),
        channel: TicketChannel::HelpCenter as i32,
        requester: Some(TicketRequester {
            name: "박지영".into(),
            email: "jiyoung.park@example.co.kr".into(),
            ..Default::default()
        }),
        subject: "첨부 파일 문의".into(),
        body_text: "파일을 첨부합니다.".into(),
        attachments,
        receive_time: Some(Timestamp {
            seconds: 1_790_000_000,
            nanos: 0,
        }),
        ..Default::default()
    }
}
