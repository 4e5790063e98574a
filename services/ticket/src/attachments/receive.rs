//! The messages of an upload's client stream, checked one by one as they arrive: the metadata
//! first, then chunks, the content hashed on the way and never held beyond the size limit.
//! Pure: the handler feeds it what the stream delivers.

use sha2::{Digest, Sha256};
use switchboard_platform::error::{FieldViolations, invalid_field};
use switchboard_proto::ticket::v1::{
    UploadTicketAttachmentMetadata, UploadTicketAttachmentRequest,
    upload_ticket_attachment_request::Part,
};
use tonic::Status;

use super::{names, sniff};

/// The largest chunk, in either direction.
pub const MAX_CHUNK: usize = 1024 * 1024;

/// A complete upload, checked.
#[derive(Debug)]
pub struct Received {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
    pub sha256: [u8; 32],
}

/// An upload being received.
pub struct Receiver {
    limit: u64,
    file: Option<File>,
}

/// What the metadata said, and the content so far.
struct File {
    name: String,
    /// The declared type, normalized; `None` when left to the name.
    content_type: Option<String>,
    announced: Option<u64>,
    content: Vec<u8>,
    hasher: Sha256,
}

impl Receiver {
    /// A receiver of files of at most `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self { limit, file: None }
    }

    /// Takes the next message of the stream; an error ends the upload (the handler stops
    /// reading at once).
    pub fn accept(&mut self, request: UploadTicketAttachmentRequest) -> Result<(), Status> {
        match (&mut self.file, request.part) {
            (None, Some(Part::Metadata(metadata))) => {
                self.file = Some(self.start(metadata)?);
                Ok(())
            }
            (None, _) => Err(invalid_field(
                "metadata",
                "the first message must carry the metadata",
            )),
            (Some(_), Some(Part::Metadata(_))) => Err(invalid_field(
                "metadata",
                "must be sent once, in the first message only",
            )),
            (Some(_), None) => Err(invalid_field(
                "chunk",
                "every message after the metadata must carry a chunk",
            )),
            (Some(file), Some(Part::Chunk(chunk))) => add_chunk(file, self.limit, &chunk),
        }
    }

    fn start(&self, metadata: UploadTicketAttachmentMetadata) -> Result<File, Status> {
        let mut violations = FieldViolations::new();
        if let Some(problem) = names::name_problem(&metadata.file_name) {
            violations.add("metadata.file_name", problem);
        }
        let content_type = match metadata.content_type.as_str() {
            "" => None,
            declared => names::normalize_type(declared)
                .map_err(|problem| violations.add("metadata.content_type", problem))
                .ok(),
        };
        let announced = match u64::try_from(metadata.size_bytes) {
            Ok(0) => None,
            Ok(size) => Some(size),
            Err(_) => {
                violations.add("metadata.size_bytes", "must not be negative");
                None
            }
        };
        violations.into_result()?;
        if let Some(size) = announced
            && size > self.limit
        {
            return Err(too_large(self.limit));
        }
        // The announced size is a guess of the buffer needed, but only a guess: a stream that
        // announces 25 MiB and sends nothing must not hold 25 MiB.
        let capacity = announced.map_or(0, |size| usize::try_from(size).unwrap_or(0).min(1 << 20));
        Ok(File {
            name: metadata.file_name,
            content_type,
            announced,
            content: Vec::with_capacity(capacity),
            hasher: Sha256::new(),
        })
    }

    /// The upload once its stream has ended.
    pub fn finish(self) -> Result<Received, Status> {
        let Some(file) = self.file else {
            return Err(invalid_field(
                "metadata",
                "missing: the first message must carry the metadata",
            ));
        };
        let size = file.content.len() as u64;
        if let Some(announced) = file.announced
            && announced != size
        {
            return Err(size_mismatch(announced, size));
        }
        let (content_type, origin) = match file.content_type {
            Some(declared) => (declared, "the declared type"),
            None => (
                names::guess_type(&file.name).to_owned(),
                "the type guessed from the file name",
            ),
        };
        if let Err(mismatch) = sniff::check(&content_type, &file.content) {
            return Err(invalid_field(
                "metadata.content_type",
                format!("{origin} {mismatch}"),
            ));
        }
        Ok(Received {
            file_name: file.name,
            content_type,
            content: file.content,
            sha256: file.hasher.finalize().into(),
        })
    }
}

fn add_chunk(file: &mut File, limit: u64, chunk: &[u8]) -> Result<(), Status> {
    if chunk.is_empty() || chunk.len() > MAX_CHUNK {
        return Err(invalid_field(
            "chunk",
            format!("must be 1 to {MAX_CHUNK} bytes (got {})", chunk.len()),
        ));
    }
    let size = (file.content.len() + chunk.len()) as u64;
    if size > limit {
        return Err(too_large(limit));
    }
    if let Some(announced) = file.announced
        && size > announced
    {
        return Err(size_mismatch(announced, size));
    }
    file.hasher.update(chunk);
    file.content.extend_from_slice(chunk);
    Ok(())
}

fn too_large(limit: u64) -> Status {
    Status::resource_exhausted(format!("the file exceeds the limit of {limit} bytes"))
}

fn size_mismatch(announced: u64, size: u64) -> Status {
    let got = if size > announced {
        "more arrived".to_owned()
    } else {
        format!("{size} arrived")
    };
    invalid_field(
        "metadata.size_bytes",
        format!("announced {announced} bytes, but {got}"),
    )
}

#[cfg(test)]
#[path = "receive_tests.rs"]
mod tests;
