//! What attachments refuse, naming the field: malformed uploads, content types the bytes
//! contradict, files over the limit (without reading on), too much in one message, bad names
//! of ingested files; and what ingested mail has corrected rather than refused.

use switchboard_proto::ticket::v1::{IngestAttachment, UploadTicketAttachmentRequest};
use tonic::Code;

use super::{MIB, assert_invalid, content, pdf};
use crate::common::{
    Mesh,
    attachment_clients::{chunk, file_parts, ingest_file, metadata},
};

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
    let too_big = mesh
        .ingest_files(vec![ingest_file("a.bin", "", vec![0; 1025])])
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
    let files = vec![
        ingest_file("C:\\Users\\고객\\견적서.pdf", "IMAGE/PNG", bytes.clone()),
        IngestAttachment {
            content_id: "logo@example.co.kr".into(),
            ..ingest_file("logo.png", "", b"\x89PNG\r\n\x1a\n\0\0".to_vec())
        },
    ];
    let response = mesh.ingest_files(files).await.unwrap();
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

    let bad = mesh
        .ingest_files(vec![ingest_file("folder/", "", vec![1])])
        .await;
    assert_invalid(bad, "attachments[0].file_name");
    mesh.stop().await;
}

#[tokio::test]
async fn a_message_holds_at_most_25_mib_of_uploads() {
    let mesh = Mesh::start().await;
    let group = mesh.group("대용량팀").await;
    let kim = mesh.agent_token("kim", &group.id).await;
    let ticket = mesh.create(&kim, &group.id, "대용량 첨부").await.unwrap();
    let half = 25 * MIB / 2;
    let a = mesh
        .upload(&kim, "a.bin", "", &content(b"", half, 10))
        .await
        .unwrap();
    let b = mesh
        .upload(&kim, "b.bin", "", &content(b"", half, 11))
        .await
        .unwrap();
    let c = mesh
        .upload(&kim, "c.bin", "", &content(b"", 1, 12))
        .await
        .unwrap();
    // Exactly 25 MiB together is allowed; one byte more is not.
    let message = mesh
        .comment_with(&kim, &ticket.id, &[&a.id, &b.id])
        .await
        .unwrap();
    assert_eq!(message.attachments.len(), 2);
    assert_invalid(
        mesh.comment_with(&kim, &ticket.id, &[&a.id, &b.id, &c.id])
            .await,
        "attachment_ids",
    );
    mesh.stop().await;
}
