//! ISO-2022-KR (RFC 1557), which no crate of the Rust stack decodes (encoding_rs maps the
//! label to "replacement"): old Korean mailers still send it, in bodies and encoded words.
//!
//! `ESC $ ) C` designates KS C 5601 to G1 (once, at the start); SO (0x0E) shifts to it, SI
//! (0x0F) back to ASCII. A shifted byte pair is KS C 5601 with the high bits cleared, so
//! setting them gives EUC-KR. Lines start in ASCII (RFC 1557 §2), so a line end shifts back.

use encoding_rs::EUC_KR;

const ESC: u8 = 0x1b;
const SO: u8 = 0x0e;
const SI: u8 = 0x0f;
const DESIGNATION: &[u8] = b"\x1b$)C";

/// Decodes ISO-2022-KR `bytes`; what is not valid becomes U+FFFD, never an error.
pub fn decode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut shifted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == ESC && bytes[i..].starts_with(DESIGNATION) {
            i += DESIGNATION.len();
            continue;
        }
        match b {
            SO => shifted = true,
            SI => shifted = false,
            b'\r' | b'\n' => {
                shifted = false;
                out.push(b as char);
            }
            _ if shifted => {
                match bytes.get(i + 1) {
                    Some(&b2) if (0x21..=0x7e).contains(&b) && (0x21..=0x7e).contains(&b2) => {
                        let pair = [b | 0x80, b2 | 0x80];
                        out.push_str(&EUC_KR.decode_without_bom_handling(&pair).0);
                    }
                    _ => out.push('\u{FFFD}'),
                }
                i += 2;
                continue;
            }
            _ if b.is_ascii() => out.push(b as char),
            _ => out.push('\u{FFFD}'),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes `text` (ASCII and KS X 1001 Hangul) as ISO-2022-KR, through encoding_rs's EUC-KR.
    pub(crate) fn encode(text: &str) -> Vec<u8> {
        let mut out = DESIGNATION.to_vec();
        for line in text.split_inclusive('\n') {
            let mut shifted = false;
            for ch in line.chars() {
                let mut buf = [0u8; 4];
                let (bytes, _, _) = EUC_KR.encode(ch.encode_utf8(&mut buf));
                if ch.is_ascii() {
                    if shifted {
                        out.push(SI);
                        shifted = false;
                    }
                    out.push(ch as u8);
                } else {
                    if !shifted {
                        out.push(SO);
                        shifted = true;
                    }
                    out.extend(bytes.iter().map(|b| b & 0x7f));
                }
            }
            if shifted {
                out.push(SI);
            }
        }
        out
    }

    #[test]
    fn decodes_shifted_hangul_and_ascii() {
        let text = "안녕하세요, 고객센터입니다.\r\n주문 번호 A-123 확인 부탁드립니다.\r\n";
        assert_eq!(decode(&encode(text)), text);
    }

    #[test]
    fn raw_bytes_of_rfc1557() {
        // "한글" in KS C 5601: C7D1 B1DB, high bits cleared.
        assert_eq!(decode(b"\x1b$)C\x0e\x47\x51\x31\x5b\x0f ok"), "한글 ok");
    }

    #[test]
    fn garbage_never_panics() {
        assert_eq!(decode(b"\x0e\x47"), "\u{FFFD}");
        assert_eq!(decode(b"\x1b$)"), "\u{1b}$)");
        assert_eq!(decode(b"\x0e\x80\x81\xff"), "\u{FFFD}\u{FFFD}");
        assert_eq!(decode(b"\x0e\x47\x51\nabc"), "한\nabc");
    }
}
