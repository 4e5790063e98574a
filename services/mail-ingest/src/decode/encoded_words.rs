//! RFC 2047 encoded words in header values, decoded from the raw header bytes.
//!
//! mail-parser decodes each encoded word alone, so a character whose bytes are split between
//! two adjacent words (a UTF-8 B-word cut mid-character, an EUC-KR word cut between the two
//! bytes of a syllable) becomes U+FFFD. Here adjacent words of one charset are joined as bytes
//! before decoding; the whitespace between encoded words is dropped (RFC 2047 §6.2). Text
//! outside encoded words that is not UTF-8 (8-bit EUC-KR from some Korean mailers) is decoded
//! with the fallback charset.

use super::charset;

/// One encoded word: its charset label and the bytes it carries.
struct Word<'a> {
    charset: &'a str,
    bytes: Vec<u8>,
}

/// Decodes the raw value of a header (folded, possibly 8-bit) into text.
pub fn decode(raw: &[u8], fallback: Option<&str>) -> String {
    let unfolded = unfold(raw);
    let mut out = String::new();
    // Bytes of adjacent encoded words of one charset, not yet decoded.
    let mut pending: Option<(String, Vec<u8>)> = None;
    // Text between two encoded words, dropped if it is only whitespace.
    let mut gap: Vec<u8> = Vec::new();
    let mut after_word = false;
    let mut i = 0;
    while i < unfolded.len() {
        if let Some((word, len)) = parse_word(&unfolded[i..]) {
            let dropped_gap = after_word && gap.iter().all(|b| b.is_ascii_whitespace());
            let joins = dropped_gap
                && pending
                    .as_ref()
                    .is_some_and(|(c, _)| same_charset(c, word.charset));
            match pending.as_mut() {
                Some((_, bytes)) if joins => bytes.extend_from_slice(&word.bytes),
                _ => {
                    flush(&mut out, pending.take());
                    if !dropped_gap {
                        out.push_str(&charset::decode_unlabelled(&gap, fallback));
                    }
                    pending = Some((word.charset.to_string(), word.bytes));
                }
            }
            gap.clear();
            after_word = true;
            i += len;
            continue;
        }
        gap.push(unfolded[i]);
        i += 1;
    }
    flush(&mut out, pending);
    out.push_str(&charset::decode_unlabelled(&gap, fallback));
    out.trim().to_string()
}

/// Whether two labels name one charset (`EUC-KR` and `ks_c_5601-1987` do).
fn same_charset(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || charset::resolve(a).is_some_and(|ca| charset::resolve(b) == Some(ca))
}

fn flush(out: &mut String, pending: Option<(String, Vec<u8>)>) {
    if let Some((label, bytes)) = pending {
        out.push_str(&charset::decode(Some(&label), &bytes));
    }
}

/// RFC 5322 unfolding: a line break followed by whitespace is removed.
fn unfold(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for &b in raw {
        if b != b'\r' && b != b'\n' {
            out.push(b);
        }
    }
    out
}

/// The longest encoded word looked for. RFC 2047 allows 75 characters; mailers exceed that,
/// but a bound keeps a hostile header of unclosed `=?` linear to decode.
const MAX_WORD: usize = 1024;

/// Parses `=?charset?B|Q?text?=` at the start of `s`: the word and its length in bytes.
fn parse_word(s: &[u8]) -> Option<(Word<'_>, usize)> {
    let s = s.get(..MAX_WORD).unwrap_or(s);
    let rest = s.strip_prefix(b"=?")?;
    let q1 = rest.iter().position(|&b| b == b'?')?;
    let charset = std::str::from_utf8(&rest[..q1]).ok()?;
    if charset.is_empty() || charset.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let rest = &rest[q1 + 1..];
    let (&enc, rest) = rest.split_first()?;
    let rest = rest.strip_prefix(b"?")?;
    let end = find(rest, b"?=")?;
    let text = &rest[..end];
    if text.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let bytes = match enc.to_ascii_uppercase() {
        b'B' => base64(text)?,
        b'Q' => q_decode(text),
        _ => return None,
    };
    let len = 2 + q1 + 1 + 2 + end + 2;
    Some((Word { charset, bytes }, len))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Base64 of a B-word; missing padding is tolerated (some mailers omit it).
fn base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut padded: Vec<u8> = text.iter().copied().filter(|&b| b != b'=').collect();
    while !padded.len().is_multiple_of(4) {
        padded.push(b'=');
    }
    mail_parser::decoders::base64::base64_decode(&padded)
}

/// The Q encoding (RFC 2047 §4.2): `_` is a space, `=XX` a byte; a malformed `=` stays as is.
fn q_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'=');
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use encoding_rs::EUC_KR;

    /// `bytes` as one B-word of `charset`.
    pub(crate) fn b_word(charset: &str, bytes: &[u8]) -> String {
        format!("=?{charset}?B?{}?=", b64(bytes))
    }

    /// Base64 with padding, written here so the tests do not depend on a crate.
    pub(crate) fn b64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.len();
            let v = (u32::from(chunk[0]) << 16)
                | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
                | u32::from(*chunk.get(2).unwrap_or(&0));
            for k in 0..4 {
                if k <= n {
                    out.push(ALPHABET[((v >> (18 - 6 * k)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// `bytes` as a Q-word of `charset`.
    pub(crate) fn q_word(charset: &str, bytes: &[u8]) -> String {
        let body: String = bytes.iter().map(|b| format!("={b:02X}")).collect();
        format!("=?{charset}?Q?{body}?=")
    }

    #[test]
    fn utf8_split_mid_character() {
        let bytes = "견적 요청 😀".as_bytes();
        // Cut inside the first syllable and inside the emoji.
        let raw = format!(
            "{}\r\n {}\r\n {}",
            b_word("UTF-8", &bytes[..1]),
            b_word("utf-8", &bytes[1..bytes.len() - 2]),
            b_word("UTF-8", &bytes[bytes.len() - 2..])
        );
        assert_eq!(decode(raw.as_bytes(), None), "견적 요청 😀");
    }

    #[test]
    fn euc_kr_split_between_the_two_bytes() {
        let (bytes, _, _) = EUC_KR.encode("똠방각하 뷁");
        for label in [
            "EUC-KR",
            "ks_c_5601-1987",
            "cp949",
            "x-uhc",
            "UHC",
            "x-windows-949",
        ] {
            let raw = format!(
                "{} {}",
                b_word(label, &bytes[..3]),
                q_word(label, &bytes[3..])
            );
            assert_eq!(decode(raw.as_bytes(), None), "똠방각하 뷁", "{label}");
        }
    }

    #[test]
    fn split_between_two_labels_of_one_charset() {
        let (bytes, _, _) = EUC_KR.encode("뷁");
        let raw = format!(
            "{} {}",
            b_word("EUC-KR", &bytes[..1]),
            b_word("cp949", &bytes[1..])
        );
        assert_eq!(decode(raw.as_bytes(), None), "뷁");
    }

    #[test]
    fn iso_2022_kr_word() {
        let bytes = crate::decode::iso2022kr::tests::encode("문의드립니다");
        let raw = format!("Re: {}", b_word("ISO-2022-KR", &bytes));
        assert_eq!(decode(raw.as_bytes(), None), "Re: 문의드립니다");
    }

    #[test]
    fn text_around_words_is_kept_space_between_dropped() {
        let raw = format!(
            "[Ticket] {} {} done",
            b_word("UTF-8", "주문".as_bytes()),
            b_word("EUC-KR", &EUC_KR.encode("취소").0)
        );
        assert_eq!(decode(raw.as_bytes(), None), "[Ticket] 주문취소 done");
        assert_eq!(decode(b"=?UTF-8?Q?a_b=3F?=", None), "a b?");
        assert_eq!(decode(b"plain  subject", None), "plain  subject");
    }

    #[test]
    fn eight_bit_euc_kr_without_words() {
        let (bytes, _, _) = EUC_KR.encode("환불 문의 뷁");
        assert_eq!(decode(&bytes, Some("ks_c_5601-1987")), "환불 문의 뷁");
        assert_eq!(decode(&bytes, None), "환불 문의 뷁");
        assert_eq!(
            decode("이미 UTF-8".as_bytes(), Some("euc-kr")),
            "이미 UTF-8"
        );
    }

    #[test]
    fn malformed_words_never_panic() {
        for raw in [
            &b"=?"[..],
            b"=?UTF-8?",
            b"=?UTF-8?B?",
            b"=?UTF-8?B?@@@?=",
            b"=?UTF-8?X?abc?=",
            b"=??B?YQ==?=",
            b"=?UTF-8?Q?=E",
            b"=?UTF-8?Q?=?=",
            b"\xff\xfe=?\xff?B?YQ?=",
        ] {
            let _ = decode(raw, None);
        }
        assert_eq!(decode(b"=?UTF-8?B?YQ?=", None), "a");
        // Unclosed words all along a long header: bounded work per position.
        let hostile = "=?UTF-8?B?AAAA".repeat(20_000);
        assert_eq!(decode(hostile.as_bytes(), None), hostile);
    }
}
