//! File names of attachments from the raw Content-Disposition and Content-Type headers:
//! RFC 2231 (`filename*=UTF-8''%EA%B2%AC...`, continuations `filename*0*=`, `filename*1*=`),
//! and the common non-standard `name="=?EUC-KR?B?...?="` (encoded words in a quoted string),
//! all decoded here so that a syllable split across segments or words survives.

use super::{charset, encoded_words};

/// One `name=value` parameter, the value unquoted.
struct Param {
    name: String,
    value: Vec<u8>,
}

/// The attachment's file name: `filename` of Content-Disposition, else `name` of Content-Type.
/// `fallback` is the charset for 8-bit bytes that are not UTF-8.
pub fn file_name(
    disposition: Option<&[u8]>,
    content_type: Option<&[u8]>,
    fallback: Option<&str>,
) -> Option<String> {
    disposition
        .and_then(|raw| param(raw, "filename", fallback))
        .or_else(|| content_type.and_then(|raw| param(raw, "name", fallback)))
        .filter(|name| !name.is_empty())
}

/// The decoded value of parameter `key` in a raw header value.
pub fn param(raw: &[u8], key: &str, fallback: Option<&str>) -> Option<String> {
    let params = parse(raw);
    let mut segments: Vec<(u32, bool, &[u8])> = Vec::new();
    let mut plain = None;
    for p in &params {
        let Some(rest) = p.name.strip_prefix(key) else {
            continue;
        };
        if rest.is_empty() {
            plain = Some(&p.value);
        } else if rest == "*" {
            segments.push((0, true, &p.value));
        } else if let Some(index) = rest.strip_prefix('*') {
            let (index, extended) = match index.strip_suffix('*') {
                Some(i) => (i, true),
                None => (index, false),
            };
            if let Ok(n) = index.parse::<u32>() {
                segments.push((n, extended, &p.value));
            }
        }
    }
    if segments.is_empty() {
        return plain.map(|v| encoded_words::decode(v, fallback));
    }
    segments.sort_by_key(|(n, _, _)| *n);
    let mut label = None;
    let mut bytes = Vec::new();
    for (i, (_, extended, value)) in segments.iter().enumerate() {
        if !*extended {
            bytes.extend_from_slice(value);
            continue;
        }
        let mut value: &[u8] = value;
        if i == 0 {
            // charset'language'text
            let mut parts = value.splitn(3, |&b| b == b'\'');
            if let (Some(cs), Some(_lang), Some(text)) = (parts.next(), parts.next(), parts.next())
            {
                label = std::str::from_utf8(cs).ok().filter(|c| !c.is_empty());
                value = text;
            }
        }
        bytes.extend(percent_decode(value));
    }
    Some(match label {
        Some(label) => charset::decode(Some(label), &bytes),
        None => charset::decode_unlabelled(&bytes, fallback),
    })
}

fn percent_decode(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(value[i]);
        i += 1;
    }
    out
}

/// The parameters after the first `;` of a header value; quoted values unquoted.
fn parse(raw: &[u8]) -> Vec<Param> {
    let raw: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    let mut params = Vec::new();
    let mut chunks = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in raw.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b';' if !quoted => {
                chunks.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    chunks.push(&raw[start..]);
    for chunk in chunks.into_iter().skip(1) {
        let Some(eq) = chunk.iter().position(|&b| b == b'=') else {
            continue;
        };
        let name = String::from_utf8_lossy(&chunk[..eq])
            .trim()
            .to_ascii_lowercase();
        let value = trim(&chunk[eq + 1..]);
        let value = match value.strip_prefix(b"\"") {
            Some(inner) => unquote(inner.strip_suffix(b"\"").unwrap_or(inner)),
            None => value.to_vec(),
        };
        params.push(Param { name, value });
    }
    params
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    bytes.get(start..end).unwrap_or_default()
}

fn unquote(inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inner.len());
    let mut escaped = false;
    for &b in inner {
        if !escaped && b == b'\\' {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::encoded_words::tests::b_word;
    use encoding_rs::EUC_KR;

    fn pct(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("%{b:02X}")).collect()
    }

    #[test]
    fn rfc2231_utf8() {
        let raw = format!(
            "attachment; filename*=UTF-8''{}",
            pct("견적서 2024.pdf".as_bytes())
        );
        assert_eq!(
            file_name(Some(raw.as_bytes()), None, None).as_deref(),
            Some("견적서 2024.pdf")
        );
    }

    #[test]
    fn rfc2231_continuations_split_mid_character() {
        let bytes = "계약서_최종본.hwp".as_bytes();
        let raw = format!(
            "attachment;\r\n filename*0*=utf-8'ko'{};\r\n filename*1*={};\r\n filename*2=\"wp\"",
            pct(&bytes[..4]),
            pct(&bytes[4..bytes.len() - 2])
        );
        assert_eq!(
            file_name(Some(raw.as_bytes()), None, None).as_deref(),
            Some("계약서_최종본.hwp")
        );
    }

    #[test]
    fn euc_kr_words_in_name() {
        let (bytes, _, _) = EUC_KR.encode("뷁_사진.jpg");
        let raw = format!(
            "image/jpeg;\r\n name=\"{} {}\"",
            b_word("ks_c_5601-1987", &bytes[..3]),
            b_word("ks_c_5601-1987", &bytes[3..])
        );
        assert_eq!(
            file_name(None, Some(raw.as_bytes()), None).as_deref(),
            Some("뷁_사진.jpg")
        );
    }

    #[test]
    fn eight_bit_euc_kr_name_and_priority() {
        let (bytes, _, _) = EUC_KR.encode("영수증.pdf");
        let mut raw = b"attachment; filename=\"".to_vec();
        raw.extend_from_slice(&bytes);
        raw.push(b'"');
        let ct = b"application/pdf; name=\"other.pdf\"";
        assert_eq!(
            file_name(Some(&raw), Some(ct), Some("euc-kr")).as_deref(),
            Some("영수증.pdf")
        );
        assert_eq!(
            file_name(Some(b"attachment"), Some(ct), None).as_deref(),
            Some("other.pdf")
        );
        assert_eq!(file_name(Some(b"inline"), None, None), None);
    }

    #[test]
    fn malformed_never_panics() {
        for raw in [
            &b";;;=\""[..],
            b"a; filename*0*=%",
            b"a; filename*=''%G",
            b"a; filename*99999999999*=x",
            b"a; filename=\"\\",
        ] {
            let _ = file_name(Some(raw), Some(raw), None);
        }
    }
}
