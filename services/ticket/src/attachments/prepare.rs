//! Files becoming attachments of a message being written: an agent's uploads (referenced by
//! id), or the files of an ingested customer mail (stored here).

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use switchboard_platform::error::{FieldViolations, invalid_field};
use switchboard_proto::ticket::v1::IngestAttachment;
use tonic::Status;
use uuid::Uuid;

use super::{Prepared, names, sniff, store};

/// The most uploads one message may reference.
const MAX_UPLOADS: usize = 20;
/// The most bytes the uploads of one message may hold together.
const MAX_UPLOADS_BYTES: i64 = 25 * 1024 * 1024;
/// The most files of one ingested message.
const MAX_INGESTED: usize = 50;

pub async fn uploads(
    conn: &mut PgConnection,
    uploader: &str,
    ids: &[String],
    field: &str,
) -> Result<Vec<Prepared>, Status> {
    if ids.len() > MAX_UPLOADS {
        return Err(invalid_field(
            field,
            format!("must hold at most {MAX_UPLOADS} ids (got {})", ids.len()),
        ));
    }
    let mut violations = FieldViolations::new();
    // The position of each id's first mention.
    let mut first: HashMap<Uuid, usize> = HashMap::new();
    let mut wanted = Vec::new();
    for (i, text) in ids.iter().enumerate() {
        let Some(id) = violations.uuid(format!("{field}[{i}]"), text) else {
            continue;
        };
        match first.get(&id) {
            Some(j) => {
                violations.add(format!("{field}[{i}]"), format!("repeats {field}[{j}]"));
            }
            None => {
                first.insert(id, i);
                wanted.push((i, id));
            }
        }
    }
    let unique: Vec<Uuid> = wanted.iter().map(|(_, id)| *id).collect();
    let mut found: HashMap<Uuid, store::FileRow> = store::live_uploads(conn, uploader, &unique)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let mut files = Vec::with_capacity(wanted.len());
    for (i, id) in wanted {
        match found.remove(&id) {
            Some(file) => files.push(file),
            // Someone else's upload answers exactly as one that does not exist.
            None => {
                violations.add(
                    format!("{field}[{i}]"),
                    "is not an upload of yours from the last 24 hours",
                );
            }
        }
    }
    violations.into_result()?;
    let total: i64 = files.iter().map(|file| file.size_bytes).sum();
    if total > MAX_UPLOADS_BYTES {
        return Err(invalid_field(
            field,
            format!("the files must hold at most {MAX_UPLOADS_BYTES} bytes together (got {total})"),
        ));
    }
    // Each message gets attachments of its own; the content stays shared.
    Ok(files
        .into_iter()
        .map(|upload| {
            Prepared::new(store::FileRow {
                id: Uuid::now_v7(),
                ..upload
            })
        })
        .collect())
}

pub async fn ingested(
    conn: &mut PgConnection,
    files: &[IngestAttachment],
    max_bytes: u64,
) -> Result<Vec<Prepared>, Status> {
    if files.len() > MAX_INGESTED {
        return Err(invalid_field(
            "attachments",
            format!(
                "must hold at most {MAX_INGESTED} files (got {})",
                files.len()
            ),
        ));
    }
    if let Some((i, file)) = files
        .iter()
        .enumerate()
        .find(|(_, file)| file.content.len() as u64 > max_bytes)
    {
        return Err(Status::resource_exhausted(format!(
            "attachments[{i}].content: must be at most {max_bytes} bytes (got {})",
            file.content.len()
        )));
    }
    let mut violations = FieldViolations::new();
    for (i, file) in files.iter().enumerate() {
        if let Some(problem) = names::name_problem(names::last_component(&file.file_name)) {
            violations.add(format!("attachments[{i}].file_name"), problem);
        }
    }
    violations.into_result()?;
    let mut prepared = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let sha256: [u8; 32] = Sha256::digest(&file.content).into();
        store::put_blob(conn, &sha256, &file.content).await?;
        let content_type = ingested_type(&file.content_type, &file.content);
        if content_type != file.content_type {
            tracing::info!(
                attachment = i,
                declared = %switchboard_platform::error::quote(&file.content_type),
                stored = content_type,
                "ingested attachment stored under another content type"
            );
        }
        prepared.push(Prepared::new(store::FileRow {
            id: Uuid::now_v7(),
            file_name: names::last_component(&file.file_name).to_owned(),
            content_type,
            size_bytes: file.content.len() as i64,
            sha256: sha256.to_vec(),
            content_id: file.content_id.clone(),
        }));
    }
    Ok(prepared)
}

/// A customer's mail is never refused for its types: an empty or malformed type is
/// application/octet-stream, and one the bytes contradict is replaced by what they are, so
/// that no agent's browser opens an executable as the image it claimed to be.
fn ingested_type(declared: &str, content: &[u8]) -> String {
    let Ok(declared) = names::normalize_type(declared) else {
        return names::OCTET_STREAM.to_owned();
    };
    match sniff::check(&declared, content) {
        Ok(()) => declared,
        Err(mismatch) => mismatch
            .found
            .and_then(sniff::canonical_type)
            .unwrap_or(names::OCTET_STREAM)
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingested_types_are_kept_normalized_or_corrected() {
        let pdf = b"%PDF-1.4\n";
        assert_eq!(ingested_type("Application/PDF", pdf), "application/pdf");
        assert_eq!(ingested_type("", pdf), names::OCTET_STREAM);
        assert_eq!(ingested_type("garbage", pdf), names::OCTET_STREAM);
        assert_eq!(ingested_type("image/png", pdf), "application/pdf");
        assert_eq!(
            ingested_type("image/png", b"not an image"),
            names::OCTET_STREAM
        );
        assert_eq!(
            ingested_type("text/plain; charset=euc-kr", b"\xbe\xc8\xb3\xe7"),
            "text/plain; charset=euc-kr"
        );
    }
}
