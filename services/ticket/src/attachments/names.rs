//! File names and content types of attachments: what is accepted, and the type guessed from a
//! name's extension. Pure: no I/O.

/// The content type of content nobody could name.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The longest file name, in characters (ticket_message.proto `TicketAttachment.file_name`).
pub const MAX_NAME_CHARS: usize = 255;

/// The longest content type kept, in bytes.
const MAX_TYPE_BYTES: usize = 255;

/// Why an uploaded file name is refused; `None` when it is acceptable: 1 to 255 characters,
/// not blank, no path separator (`/` or `\`), no control character, not `.` or `..`.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("must not be empty".into());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Some(format!(
            "must be at most {MAX_NAME_CHARS} characters (got {chars})"
        ));
    }
    if name.contains(['/', '\\']) {
        return Some("must not contain a path separator (/ or \\)".into());
    }
    if name.chars().any(char::is_control) {
        return Some("must not contain control characters".into());
    }
    if name == "." || name == ".." {
        return Some("must name a file".into());
    }
    None
}

/// An ingested mail's file name: mail clients send full paths ("C:\Users\kim\견적서.pdf"), so
/// the name is the last component; a customer's mail is not refused for its sender's habits.
/// What remains must still pass [`name_problem`].
pub fn last_component(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The content type as stored: trimmed and lowercase, parameters kept ("text/plain;
/// charset=euc-kr"); `Err` with the reason when it is not `type/subtype[; parameters]`.
pub fn normalize_type(content_type: &str) -> Result<String, String> {
    let normalized = content_type.trim().to_ascii_lowercase();
    if normalized.len() > MAX_TYPE_BYTES {
        return Err(format!("must be at most {MAX_TYPE_BYTES} bytes"));
    }
    let essence = normalized.split(';').next().unwrap_or_default().trim_end();
    let valid = essence
        .split_once('/')
        .is_some_and(|(kind, subtype)| is_token(kind) && is_token(subtype))
        && normalized
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control());
    if valid {
        Ok(normalized)
    } else {
        Err("must be a MIME type such as \"image/png\"".into())
    }
}

/// An RFC 2045 token: no spaces, no specials.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c))
}

/// The content type guessed from `name`'s extension; [`OCTET_STREAM`] when unknown.
pub fn guess_type(name: &str) -> &'static str {
    let Some((stem, extension)) = name.rsplit_once('.') else {
        return OCTET_STREAM;
    };
    if stem.is_empty() {
        // ".bashrc" has no extension.
        return OCTET_STREAM;
    }
    let extension = extension.to_ascii_lowercase();
    EXTENSIONS
        .iter()
        .find(|(known, _)| *known == extension)
        .map_or(OCTET_STREAM, |(_, content_type)| content_type)
}

/// The extensions agents and customers commonly attach, with their types.
const EXTENSIONS: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("bmp", "image/bmp"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("heic", "image/heic"),
    ("svg", "image/svg+xml"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("log", "text/plain"),
    ("csv", "text/csv"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("md", "text/markdown"),
    ("json", "application/json"),
    ("xml", "application/xml"),
    ("rtf", "application/rtf"),
    ("eml", "message/rfc822"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("7z", "application/x-7z-compressed"),
    ("rar", "application/vnd.rar"),
    ("doc", "application/msword"),
    ("xls", "application/vnd.ms-excel"),
    ("ppt", "application/vnd.ms-powerpoint"),
    ("msg", "application/vnd.ms-outlook"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("hwp", "application/x-hwp"),
    ("hwpx", "application/vnd.hancom.hwpx"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("wav", "audio/wav"),
    ("ogg", "audio/ogg"),
    ("mp4", "video/mp4"),
    ("mov", "video/quicktime"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_component_of_1_to_255_characters() {
        assert_eq!(name_problem("견적서 (최종).pdf"), None);
        assert_eq!(name_problem(&"가".repeat(255)), None);
        assert!(name_problem(&"가".repeat(256)).unwrap().contains("255"));
        for bad in [
            "",
            "   ",
            "a/b.txt",
            "..\\x.txt",
            "a\nb",
            "nul\0.txt",
            ".",
            "..",
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn ingested_names_keep_their_last_component() {
        assert_eq!(last_component("C:\\Users\\kim\\견적서.pdf"), "견적서.pdf");
        assert_eq!(last_component("/tmp/a/b.png"), "b.png");
        assert_eq!(last_component("plain.txt"), "plain.txt");
        // A name that was only a folder leaves nothing, which is then refused.
        assert_eq!(last_component("docs/"), "");
    }

    #[test]
    fn types_are_lowercased_and_must_be_mime_types() {
        assert_eq!(normalize_type(" Image/PNG ").as_deref(), Ok("image/png"));
        assert_eq!(
            normalize_type("text/plain; charset=EUC-KR").as_deref(),
            Ok("text/plain; charset=euc-kr")
        );
        for bad in [
            "png",
            "image/",
            "/png",
            "image png",
            "이미지/png",
            "a/b\r\nx: y",
        ] {
            assert!(normalize_type(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_type(&format!("a/{}", "b".repeat(300))).is_err());
    }

    #[test]
    fn the_extension_names_the_type_case_insensitively() {
        assert_eq!(guess_type("사진.PNG"), "image/png");
        assert_eq!(guess_type("report.final.pdf"), "application/pdf");
        assert_eq!(guess_type("민원.hwp"), "application/x-hwp");
        assert_eq!(
            guess_type("a.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(guess_type("README"), OCTET_STREAM);
        assert_eq!(guess_type(".bashrc"), OCTET_STREAM);
        assert_eq!(guess_type("setup.exe"), OCTET_STREAM);
        assert_eq!(guess_type("archive.tar.unknown"), OCTET_STREAM);
    }

    #[test]
    fn every_guessed_type_is_a_valid_lowercase_type() {
        for (extension, content_type) in EXTENSIONS {
            assert_eq!(extension.to_ascii_lowercase(), *extension);
            assert_eq!(normalize_type(content_type).as_deref(), Ok(*content_type));
        }
    }
}
