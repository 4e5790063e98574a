//! Decoding a base64 or quoted-printable body, for the one case the pre-scan must look inside
//! an encoded part: an encoded `message/rfc822`, which mail-parser decodes and parses (up to
//! three encoded levels), so the parts inside count against the limits too. Lenient like
//! mail-parser: bytes outside the alphabet are skipped, a broken escape is kept as is.

/// How a part's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransferEncoding {
    Identity,
    Base64,
    QuotedPrintable,
}

impl TransferEncoding {
    /// From a raw `Content-Transfer-Encoding` value, compared as mail-parser compares it:
    /// unfolded and trimmed, comments kept (`base64 (x)` is no encoding it knows).
    pub(crate) fn from_header(value: &[u8]) -> Self {
        let value = super::fields::unfold(&String::from_utf8_lossy(value));
        let value = value.trim();
        if value.eq_ignore_ascii_case("base64") {
            Self::Base64
        } else if value.eq_ignore_ascii_case("quoted-printable") {
            Self::QuotedPrintable
        } else {
            Self::Identity
        }
    }

    /// `body` decoded; never longer than `body`.
    pub(crate) fn decode(self, body: &[u8]) -> Vec<u8> {
        match self {
            Self::Identity => body.to_vec(),
            Self::Base64 => base64(body),
            Self::QuotedPrintable => quoted_printable(body),
        }
    }
}

fn base64_value(byte: u8) -> Option<u32> {
    match byte {
        b'A'..=b'Z' => Some(u32::from(byte - b'A')),
        b'a'..=b'z' => Some(u32::from(byte - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(byte - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn base64(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &byte in body {
        if byte == b'=' {
            break;
        }
        let Some(value) = base64_value(byte) else {
            continue;
        };
        acc = (acc << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let byte = body[i];
        if byte != b'=' {
            out.push(byte);
            i += 1;
            continue;
        }
        if let (Some(h), Some(l)) = (
            body.get(i + 1).copied().and_then(hex),
            body.get(i + 2).copied().and_then(hex),
        ) {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        // A soft line break: `=`, optional trailing whitespace, then the line end.
        let mut j = i + 1;
        while matches!(body.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        match body.get(j) {
            Some(b'\n') => i = j + 1,
            Some(b'\r') if body.get(j + 1) == Some(&b'\n') => i = j + 2,
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_with_line_breaks() {
        let decoded = TransferEncoding::Base64.decode(b"SGVs\r\nbG8s\nIHdvcmxk\r\nIQ==\r\n");
        assert_eq!(decoded, b"Hello, world!");
    }

    #[test]
    fn quoted_printable_with_soft_breaks() {
        let decoded = TransferEncoding::QuotedPrintable.decode(b"a=3Db=\r\nc= \nd=zz");
        assert_eq!(decoded, b"a=bcd=zz");
    }

    #[test]
    fn encoding_names() {
        assert_eq!(
            TransferEncoding::from_header(b" BASE64\r\n"),
            TransferEncoding::Base64
        );
        assert_eq!(
            TransferEncoding::from_header(b"7bit"),
            TransferEncoding::Identity
        );
    }
}
