//! What the bytes of a file are, from their magic numbers, and whether a declared content type
//! agrees. Pure: no I/O.
//!
//! The rule: a type that names a format with a signature (image/png, application/pdf, the
//! zip family, …) must have bytes of that format; a text type must not have bytes of any
//! recognised binary format (an executable renamed `invoice.txt`); any other type is taken as
//! given. Text is not required to be UTF-8: customers' files are often EUC-KR or CP949.

use std::fmt;

/// A file format recognised by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Gif,
    Webp,
    Tiff,
    Pdf,
    /// Zip and what is built on it: docx, xlsx, pptx, hwpx, odt, epub, jar.
    Zip,
    Gzip,
    SevenZip,
    Rar,
    /// OLE2 compound files: doc, xls, ppt, msg, hwp.
    Ole2,
    /// ISO base media: mp4, m4a, mov, heic.
    IsoMedia,
    Ogg,
    Wav,
    /// A Windows (PE) executable or DLL.
    Pe,
    /// An ELF executable or shared library.
    Elf,
    MachO,
}

impl Format {
    /// How an error message names the format.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Png => "a PNG image",
            Self::Jpeg => "a JPEG image",
            Self::Gif => "a GIF image",
            Self::Webp => "a WebP image",
            Self::Tiff => "a TIFF image",
            Self::Pdf => "a PDF document",
            Self::Zip => "a zip archive (or a document built on zip)",
            Self::Gzip => "a gzip archive",
            Self::SevenZip => "a 7-Zip archive",
            Self::Rar => "a RAR archive",
            Self::Ole2 => "an OLE2 compound file (legacy Office or HWP)",
            Self::IsoMedia => "an MP4/QuickTime/HEIF media file",
            Self::Ogg => "an Ogg media file",
            Self::Wav => "a WAV audio file",
            Self::Pe => "a Windows executable",
            Self::Elf => "an ELF executable",
            Self::MachO => "a Mach-O executable",
        }
    }
}

/// The format of `bytes`, when their signature is one of the recognised ones.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    const SIGNATURES: &[(&[u8], Format)] = &[
        (b"\x89PNG\r\n\x1a\n", Format::Png),
        (b"\xff\xd8\xff", Format::Jpeg),
        (b"GIF87a", Format::Gif),
        (b"GIF89a", Format::Gif),
        (b"II*\0", Format::Tiff),
        (b"MM\0*", Format::Tiff),
        (b"%PDF-", Format::Pdf),
        (b"PK\x03\x04", Format::Zip),
        // An empty zip (a document saved with nothing in it still starts like this).
        (b"PK\x05\x06", Format::Zip),
        (b"\x1f\x8b", Format::Gzip),
        (b"7z\xbc\xaf\x27\x1c", Format::SevenZip),
        (b"Rar!\x1a\x07", Format::Rar),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Format::Ole2),
        (b"OggS", Format::Ogg),
        (b"\x7fELF", Format::Elf),
        (b"\xfe\xed\xfa\xce", Format::MachO),
        (b"\xfe\xed\xfa\xcf", Format::MachO),
        (b"\xce\xfa\xed\xfe", Format::MachO),
        (b"\xcf\xfa\xed\xfe", Format::MachO),
    ];
    if let Some((_, format)) = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return Some(*format);
    }
    if bytes.starts_with(b"RIFF") && bytes.len() >= 12 {
        return match &bytes[8..12] {
            b"WEBP" => Some(Format::Webp),
            b"WAVE" => Some(Format::Wav),
            _ => None,
        };
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Some(Format::IsoMedia);
    }
    is_pe(bytes).then_some(Format::Pe)
}

/// "MZ" alone is too weak (a text may start with it): a PE file's DOS header points, at 0x3c,
/// to the "PE\0\0" signature.
fn is_pe(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"MZ") {
        return false;
    }
    let Some(offset) = bytes.get(0x3c..0x40) else {
        return false;
    };
    let offset = u32::from_le_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
    offset
        .checked_add(4)
        .and_then(|end| bytes.get(offset..end))
        .is_some_and(|signature| signature == b"PE\0\0")
}

/// What a content type (lowercase, parameters allowed) promises about the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Bytes of this format.
    Format(Format),
    /// Text: no recognised binary format.
    Text,
    /// Nothing checkable (application/octet-stream, types without a signature).
    Nothing,
}

/// The claim of `content_type`.
pub fn claim(content_type: &str) -> Claim {
    let essence = essence(content_type);
    if let Some(format) = format_of(essence) {
        return Claim::Format(format);
    }
    let text = essence.starts_with("text/")
        || matches!(
            essence,
            "application/json" | "application/xml" | "image/svg+xml" | "application/rtf"
        );
    if text { Claim::Text } else { Claim::Nothing }
}

/// The type without its parameters: "text/plain; charset=euc-kr" → "text/plain".
pub fn essence(content_type: &str) -> &str {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_end()
}

fn format_of(essence: &str) -> Option<Format> {
    let format = match essence {
        "image/png" => Format::Png,
        "image/jpeg" | "image/jpg" | "image/pjpeg" => Format::Jpeg,
        "image/gif" => Format::Gif,
        "image/webp" => Format::Webp,
        "image/tiff" => Format::Tiff,
        "application/pdf" => Format::Pdf,
        "application/zip"
        | "application/x-zip-compressed"
        | "application/epub+zip"
        | "application/java-archive"
        | "application/vnd.hancom.hwpx" => Format::Zip,
        "application/gzip" | "application/x-gzip" => Format::Gzip,
        "application/x-7z-compressed" => Format::SevenZip,
        "application/vnd.rar" | "application/x-rar-compressed" => Format::Rar,
        "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.ms-outlook"
        | "application/x-hwp"
        | "application/haansofthwp" => Format::Ole2,
        "video/mp4" | "audio/mp4" | "video/quicktime" | "image/heic" | "image/heif" => {
            Format::IsoMedia
        }
        "audio/ogg" | "video/ogg" | "application/ogg" => Format::Ogg,
        "audio/wav" | "audio/x-wav" | "audio/wave" => Format::Wav,
        "application/vnd.microsoft.portable-executable"
        | "application/x-msdownload"
        | "application/x-dosexec" => Format::Pe,
        "application/x-executable" | "application/x-elf" | "application/x-sharedlib" => Format::Elf,
        "application/x-mach-binary" => Format::MachO,
        // docx, xlsx, pptx and the OpenDocument formats are zip files.
        other
            if other.starts_with("application/vnd.openxmlformats-officedocument.")
                || other.starts_with("application/vnd.oasis.opendocument.") =>
        {
            Format::Zip
        }
        _ => return None,
    };
    Some(format)
}

/// A content type the bytes contradict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The essence of the content type, as claimed.
    pub claimed: String,
    /// What the bytes are, when recognised.
    pub found: Option<Format>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (claim(&self.claimed), self.found) {
            (_, Some(found)) => write!(
                f,
                "is {:?}, but the content is {}",
                self.claimed,
                found.describe()
            ),
            (Claim::Format(claimed), None) => write!(
                f,
                "is {:?}, but the content is not {}",
                self.claimed,
                claimed.describe()
            ),
            _ => write!(f, "is {:?}, which the content contradicts", self.claimed),
        }
    }
}

/// `Ok` when `bytes` are what `content_type` claims (see the module comment).
pub fn check(content_type: &str, bytes: &[u8]) -> Result<(), Mismatch> {
    let found = detect(bytes);
    let agrees = match claim(content_type) {
        Claim::Format(format) => found == Some(format),
        Claim::Text => found.is_none(),
        Claim::Nothing => true,
    };
    if agrees {
        Ok(())
    } else {
        Err(Mismatch {
            claimed: essence(content_type).to_owned(),
            found,
        })
    }
}

/// The content type a recognised format is stored as when a declared type must be replaced
/// (ingested mail, which is never refused for its type); `None` for families whose members
/// the signature does not tell apart (OLE2, ISO media).
pub fn canonical_type(format: Format) -> Option<&'static str> {
    let content_type = match format {
        Format::Png => "image/png",
        Format::Jpeg => "image/jpeg",
        Format::Gif => "image/gif",
        Format::Webp => "image/webp",
        Format::Tiff => "image/tiff",
        Format::Pdf => "application/pdf",
        Format::Zip => "application/zip",
        Format::Gzip => "application/gzip",
        Format::SevenZip => "application/x-7z-compressed",
        Format::Rar => "application/vnd.rar",
        Format::Ole2 | Format::IsoMedia => return None,
        Format::Ogg => "application/ogg",
        Format::Wav => "audio/wav",
        Format::Pe => "application/vnd.microsoft.portable-executable",
        Format::Elf => "application/x-executable",
        Format::MachO => "application/x-mach-binary",
    };
    Some(content_type)
}

#[cfg(test)]
#[path = "sniff_tests.rs"]
mod tests;
