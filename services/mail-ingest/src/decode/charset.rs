//! Charset labels to decoders. mail-parser's map misses `cp949`, `uhc`, `x-uhc` and
//! `x-windows-949` (it reads them as UTF-8, every Hangul syllable a U+FFFD) and maps
//! ISO-2022-KR to "replacement"; this map says what Korean mailers mean by each label.
//! encoding_rs's EUC-KR is WHATWG's, i.e. CP949 with the Unified Hangul Code extension, so
//! every Korean label decodes through it.

use encoding_rs::{EUC_KR, Encoding, REPLACEMENT, UTF_8};

/// How bytes of one label are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Encoding(&'static Encoding),
    /// RFC 1557, decoded by [`super::iso2022kr`].
    Iso2022Kr,
}

/// Every label Korean mailers use for EUC-KR/CP949 (lower case), those mail-parser knows too.
const KOREAN: &[&str] = &[
    "euc-kr",
    "euc_kr",
    "x-euc-kr",
    "cseuckr",
    "ks_c_5601-1987",
    "ks_c_5601-1989",
    "ks_c_5601",
    "ksc5601",
    "ksc_5601",
    "ksc-5601",
    "cp949",
    "ms949",
    "windows-949",
    "x-windows-949",
    "uhc",
    "x-uhc",
    "korean",
    "iso-ir-149",
    "csksc56011987",
];

/// The charset a label names, case-insensitive; `None` for an unknown label.
/// An RFC 2231 language suffix (`utf-8*ko`) and quotes are ignored.
pub fn resolve(label: &str) -> Option<Charset> {
    let label = label.trim().trim_matches('"');
    let label = label.split('*').next().unwrap_or_default().trim();
    let lower = label.to_ascii_lowercase();
    if lower == "iso-2022-kr" || lower == "iso_2022_kr" || lower == "csiso2022kr" {
        return Some(Charset::Iso2022Kr);
    }
    if KOREAN.contains(&lower.as_str()) {
        return Some(Charset::Encoding(EUC_KR));
    }
    match Encoding::for_label(lower.as_bytes()) {
        Some(enc) if enc == REPLACEMENT => None,
        Some(enc) => Some(Charset::Encoding(enc)),
        None => None,
    }
}

/// Decodes `bytes` in `charset`; malformed sequences become U+FFFD.
pub fn decode_with(charset: Charset, bytes: &[u8]) -> String {
    match charset {
        Charset::Iso2022Kr => super::iso2022kr::decode(bytes),
        Charset::Encoding(enc) => enc.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Decodes `bytes` labelled `label` (or not labelled). Unknown or missing labels: UTF-8 when
/// the bytes are valid UTF-8, otherwise CP949, the usual unlabelled 8-bit text of Korean
/// mailers.
pub fn decode(label: Option<&str>, bytes: &[u8]) -> String {
    match label.and_then(resolve) {
        Some(charset) => {
            if charset == Charset::Encoding(UTF_8)
                && let Ok(text) = std::str::from_utf8(bytes)
            {
                return text.to_string();
            }
            decode_with(charset, bytes)
        }
        None => decode_unlabelled(bytes, None),
    }
}

/// Decodes bytes that carry no label of their own (8-bit header text, unlabelled bodies):
/// UTF-8 if they are valid UTF-8, else `fallback` (the part's or message's charset), else CP949.
pub fn decode_unlabelled(bytes: &[u8], fallback: Option<&str>) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let charset = fallback
        .and_then(resolve)
        .filter(|c| *c != Charset::Encoding(UTF_8))
        .unwrap_or(Charset::Encoding(EUC_KR));
    decode_with(charset, bytes)
}

/// Whether mail-parser decoded a part labelled `label` wrongly, so its raw bytes must be
/// decoded again here: labels it does not know (it falls back to UTF-8) and ISO-2022-KR.
pub fn mail_parser_misreads(label: &str) -> bool {
    match resolve(label) {
        Some(Charset::Iso2022Kr) => true,
        Some(Charset::Encoding(enc)) if enc == UTF_8 => false,
        Some(Charset::Encoding(_)) => {
            mail_parser::decoders::charsets::map::charset_decoder(label.trim().as_bytes()).is_none()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: &[&str] = &[
        "euc-kr",
        "ks_c_5601-1987",
        "cp949",
        "windows-949",
        "uhc",
        "x-windows-949",
        "ksc5601",
        "x-uhc",
    ];

    #[test]
    fn every_korean_label_decodes_cp949_extension() {
        let text = "똠방각하 뷁 안녕하세요";
        let (bytes, _, unmappable) = EUC_KR.encode(text);
        assert!(!unmappable);
        for label in LABELS {
            for variant in [label.to_string(), label.to_ascii_uppercase()] {
                assert_eq!(decode(Some(&variant), &bytes), text, "label {variant}");
            }
        }
    }

    #[test]
    fn labels_mail_parser_misses() {
        for label in [
            "cp949",
            "uhc",
            "x-uhc",
            "x-windows-949",
            "CP949",
            "iso-2022-kr",
        ] {
            assert!(mail_parser_misreads(label), "{label}");
        }
        for label in [
            "euc-kr",
            "ks_c_5601-1987",
            "windows-949",
            "ksc5601",
            "utf-8",
        ] {
            assert!(!mail_parser_misreads(label), "{label}");
        }
    }

    #[test]
    fn utf8_and_unknown_labels() {
        assert_eq!(decode(Some("UTF-8"), "한글 😀".as_bytes()), "한글 😀");
        assert_eq!(decode(Some("x-unknown"), "한글".as_bytes()), "한글");
        let (bytes, _, _) = EUC_KR.encode("한글");
        assert_eq!(decode(Some("x-unknown"), &bytes), "한글");
        assert_eq!(decode(None, &bytes), "한글");
        assert_eq!(resolve("utf-8*ko"), Some(Charset::Encoding(UTF_8)));
        assert_eq!(resolve("\"ISO-2022-KR\""), Some(Charset::Iso2022Kr));
    }

    #[test]
    fn unlabelled_bytes_use_the_fallback() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("日本");
        assert_eq!(decode_unlabelled(&bytes, Some("shift_jis")), "日本");
        let (bytes, _, _) = EUC_KR.encode("뷁");
        assert_eq!(decode_unlabelled(&bytes, Some("utf-8")), "뷁");
    }
}
