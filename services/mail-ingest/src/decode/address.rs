//! Display names of From and Reply-To from the raw header, so that encoded words split
//! mid-character and 8-bit EUC-KR names decode (see [`super::encoded_words`]). The address
//! itself is mail-parser's (ASCII, nothing to decode).

use super::encoded_words;

/// The display name of the first mailbox in a raw address-list header value:
/// `김민준 <kim@example.com>`, `"Kim, M." <kim@example.com>`, `kim@example.com (김민준)`.
pub fn first_name(raw: &[u8], fallback: Option<&str>) -> String {
    let mailbox = first_mailbox(raw);
    let name: Vec<u8> = match mailbox.iter().position(|&b| b == b'<') {
        Some(lt) => unquote(&mailbox[..lt]),
        None => comment(mailbox).unwrap_or_default(),
    };
    let name = encoded_words::decode(&name, fallback);
    let name = name.trim().trim_matches('"').trim();
    name.to_string()
}

/// The bytes up to the first top-level comma (outside quotes, comments and angle brackets).
fn first_mailbox(raw: &[u8]) -> &[u8] {
    let (mut quoted, mut escaped, mut depth, mut angle) = (false, false, 0u32, false);
    for (i, &b) in raw.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted || depth > 0 => escaped = true,
            b'"' if depth == 0 => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            b'<' if !quoted && depth == 0 => angle = true,
            b'>' if !quoted && depth == 0 => angle = false,
            b',' if !quoted && depth == 0 && !angle => return &raw[..i],
            _ => {}
        }
    }
    raw
}

/// The phrase with its quoted strings unquoted (`\"` unescaped).
fn unquote(phrase: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(phrase.len());
    let (mut quoted, mut escaped) = (false, false);
    for &b in phrase {
        match b {
            _ if escaped => {
                escaped = false;
                out.push(b);
            }
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ => out.push(b),
        }
    }
    out
}

/// The text of the first comment: `kim@example.com (김민준)`.
fn comment(mailbox: &[u8]) -> Option<Vec<u8>> {
    let open = mailbox.iter().position(|&b| b == b'(')?;
    let close = mailbox.iter().rposition(|&b| b == b')')?;
    (close > open).then(|| mailbox[open + 1..close].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::encoded_words::tests::b_word;
    use encoding_rs::EUC_KR;

    #[test]
    fn split_euc_kr_name() {
        let (bytes, _, _) = EUC_KR.encode("김똠방");
        let raw = format!(
            "{}\r\n {} <kim@example.com>, other <o@example.com>",
            b_word("cp949", &bytes[..1]),
            b_word("CP949", &bytes[1..])
        );
        assert_eq!(first_name(raw.as_bytes(), None), "김똠방");
    }

    #[test]
    fn quoted_comment_and_bare() {
        assert_eq!(
            first_name(b"\"Kim, Minjun\" <kim@example.com>", None),
            "Kim, Minjun"
        );
        assert_eq!(
            first_name("kim@example.com (김민준)".as_bytes(), None),
            "김민준"
        );
        assert_eq!(first_name(b"kim@example.com", None), "");
        let quoted = format!("\"{}\" <a@b.c>", b_word("UTF-8", "이서연".as_bytes()));
        assert_eq!(first_name(quoted.as_bytes(), None), "이서연");
    }

    #[test]
    fn eight_bit_name() {
        let (mut raw, _, _) = EUC_KR.encode("박지훈 ");
        let mut raw = raw.to_mut().clone();
        raw.extend_from_slice(b"<park@example.com>");
        assert_eq!(first_name(&raw, Some("euc-kr")), "박지훈");
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [&b"\"\\"[..], b"(((", b")<", b"<<>>,,", b"\xff\xfe"] {
            let _ = first_name(raw, None);
        }
    }
}
