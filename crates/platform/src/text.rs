//! The normalised form in which text is compared (ticket search, trigger conditions): Unicode
//! NFKC, then lower-cased, so full-width "ＡＢＣ" and "abc" are the same text.

use unicode_normalization::UnicodeNormalization;

/// `text` in the form comparisons use: NFKC, then lower case (Unicode's full lower-casing,
/// which is what case folding gives for the scripts tickets are written in).
pub fn normalise(text: &str) -> String {
    text.nfkc().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn folds_width_and_case() {
        assert_eq!(normalise("ＡＢＣ Ä"), "abc ä");
        assert_eq!(normalise("환불요청"), "환불요청");
    }
}
