use switchboard_platform::error::violated_fields;
use tonic::Code;

use super::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n";

fn metadata(name: &str, content_type: &str, size: i64) -> UploadTicketAttachmentRequest {
    UploadTicketAttachmentRequest {
        part: Some(Part::Metadata(UploadTicketAttachmentMetadata {
            file_name: name.into(),
            content_type: content_type.into(),
            size_bytes: size,
        })),
    }
}

fn chunk(bytes: &[u8]) -> UploadTicketAttachmentRequest {
    UploadTicketAttachmentRequest {
        part: Some(Part::Chunk(bytes.to_vec())),
    }
}

fn fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    violated_fields(status)
}

#[test]
fn chunks_are_joined_and_hashed() {
    let mut receiver = Receiver::new(1024);
    receiver.accept(metadata("메모.txt", "", 11)).unwrap();
    receiver.accept(chunk(b"hello ")).unwrap();
    receiver.accept(chunk(b"world")).unwrap();
    let received = receiver.finish().unwrap();
    assert_eq!(received.content, b"hello world");
    assert_eq!(received.content_type, "text/plain");
    assert_eq!(received.file_name, "메모.txt");
    let expected: [u8; 32] = Sha256::digest(b"hello world").into();
    assert_eq!(received.sha256, expected);
}

#[test]
fn the_metadata_comes_first_and_once() {
    let status = Receiver::new(1024).accept(chunk(b"x")).unwrap_err();
    assert_eq!(fields(&status), ["metadata"]);
    let status = Receiver::new(1024).finish().unwrap_err();
    assert_eq!(fields(&status), ["metadata"]);
    let mut receiver = Receiver::new(1024);
    receiver.accept(metadata("a.txt", "", 0)).unwrap();
    let status = receiver.accept(metadata("b.txt", "", 0)).unwrap_err();
    assert_eq!(fields(&status), ["metadata"]);
    let status = receiver
        .accept(UploadTicketAttachmentRequest { part: None })
        .unwrap_err();
    assert_eq!(fields(&status), ["chunk"]);
}

#[test]
fn bad_metadata_names_every_bad_field() {
    let status = Receiver::new(1024)
        .accept(metadata("../etc/passwd", "not a type", -1))
        .unwrap_err();
    assert_eq!(
        fields(&status),
        [
            "metadata.file_name",
            "metadata.content_type",
            "metadata.size_bytes"
        ]
    );
}

#[test]
fn chunks_are_1_byte_to_1_mib() {
    let mut receiver = Receiver::new(10 * 1024 * 1024);
    receiver.accept(metadata("a.bin", "", 0)).unwrap();
    receiver.accept(chunk(&vec![0; MAX_CHUNK])).unwrap();
    let status = receiver.accept(chunk(&vec![0; MAX_CHUNK + 1])).unwrap_err();
    assert_eq!(fields(&status), ["chunk"]);
    let status = receiver.accept(chunk(b"")).unwrap_err();
    assert_eq!(fields(&status), ["chunk"]);
}

#[test]
fn the_limit_stops_the_upload_at_the_chunk_that_crosses_it() {
    let mut receiver = Receiver::new(10);
    receiver.accept(metadata("a.bin", "", 0)).unwrap();
    receiver.accept(chunk(&[1; 10])).unwrap();
    let status = receiver.accept(chunk(&[1])).unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    // An announced size over the limit is refused before any content.
    let status = Receiver::new(10)
        .accept(metadata("a.bin", "", 11))
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
}

#[test]
fn the_announced_size_must_be_the_size() {
    let mut short = Receiver::new(1024);
    short.accept(metadata("a.bin", "", 5)).unwrap();
    short.accept(chunk(b"abcd")).unwrap();
    let status = short.finish().unwrap_err();
    assert_eq!(fields(&status), ["metadata.size_bytes"]);
    assert!(
        status
            .message()
            .contains("announced 5 bytes, but 4 arrived")
    );
    // Too much is refused as soon as it arrives.
    let mut long = Receiver::new(1024);
    long.accept(metadata("a.bin", "", 3)).unwrap();
    let status = long.accept(chunk(b"abcd")).unwrap_err();
    assert_eq!(fields(&status), ["metadata.size_bytes"]);
}

#[test]
fn declared_and_guessed_types_are_checked_against_the_bytes() {
    let mut lie = Receiver::new(1024);
    lie.accept(metadata("scan.png", "image/png", 0)).unwrap();
    lie.accept(chunk(PDF)).unwrap();
    let status = lie.finish().unwrap_err();
    assert_eq!(fields(&status), ["metadata.content_type"]);
    assert!(
        status.message().contains("image/png"),
        "{}",
        status.message()
    );
    assert!(status.message().contains("PDF"), "{}", status.message());

    let mut guessed = Receiver::new(1024);
    guessed.accept(metadata("scan.png", "", 0)).unwrap();
    guessed.accept(chunk(PDF)).unwrap();
    let status = guessed.finish().unwrap_err();
    assert!(status.message().contains("guessed"), "{}", status.message());

    // The declared type wins over the name: a PDF named .png, declared as a PDF, is fine.
    let mut honest = Receiver::new(1024);
    honest
        .accept(metadata("scan.png", "Application/PDF", 0))
        .unwrap();
    honest.accept(chunk(PDF)).unwrap();
    assert_eq!(honest.finish().unwrap().content_type, "application/pdf");
}

#[test]
fn an_empty_file_is_an_upload_of_no_bytes() {
    let mut receiver = Receiver::new(1024);
    receiver.accept(metadata("empty.log", "", 0)).unwrap();
    let received = receiver.finish().unwrap();
    assert!(received.content.is_empty());
    assert_eq!(received.content_type, "text/plain");
}
