//! Content-Transfer-Encoding of a part's raw body, for the parts whose text mail-parser
//! decoded with a wrong charset and that are decoded again from their bytes here.

use mail_parser::Encoding;
use mail_parser::decoders::{base64::base64_decode, quoted_printable::quoted_printable_decode};

/// The bytes of `body` under `encoding`; `None` when they are not valid in it.
pub fn decode(encoding: Encoding, body: &[u8]) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Base64 => {
            let clean: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64_decode(&clean)
        }
        Encoding::QuotedPrintable => quoted_printable_decode(body),
        Encoding::None => Some(body.to_vec()),
    }
}

/// The raw body of part `part` of `message` (between its header and the next boundary).
pub fn raw_body<'a>(raw: &'a [u8], part: &mail_parser::MessagePart<'_>) -> &'a [u8] {
    raw.get(part.offset_body as usize..part.offset_end as usize)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_with_line_breaks() {
        assert_eq!(
            decode(Encoding::Base64, b"7ZWc\r\n6riA\r\n").as_deref(),
            Some("한글".as_bytes())
        );
    }

    #[test]
    fn quoted_printable_soft_breaks() {
        assert_eq!(
            decode(Encoding::QuotedPrintable, b"=ED=95=9C=\r\n=EA=B8=80").as_deref(),
            Some("한글".as_bytes())
        );
    }

    #[test]
    fn garbage_is_none_or_bytes_never_a_panic() {
        let _ = decode(Encoding::Base64, b"!!!\xff");
        let _ = decode(Encoding::QuotedPrintable, b"=G=");
        assert_eq!(decode(Encoding::None, b"x").as_deref(), Some(&b"x"[..]));
    }
}
