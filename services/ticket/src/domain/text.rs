//! The normalised form of text that search matches on (티켓 검색): Unicode NFKC, then
//! lower-cased, so full-width "ＡＢＣ" and "abc" are the same text. Subjects are stored with
//! their character bigrams, which a GIN index finds; a word's bigrams are a subset of the
//! bigrams of every text that contains it, Korean included ("환불" in "환불요청").

pub use switchboard_platform::text::normalise;

/// The distinct character bigrams of `normalised` that hold no white space, sorted (a word
/// never spans white space, so those bigrams would never be looked up).
pub fn bigrams(normalised: &str) -> Vec<String> {
    let chars: Vec<char> = normalised.chars().collect();
    let mut grams: Vec<String> = chars
        .windows(2)
        .filter(|pair| !pair[0].is_whitespace() && !pair[1].is_whitespace())
        .map(|pair| pair.iter().collect())
        .collect();
    grams.sort();
    grams.dedup();
    grams
}

/// The distinct normalised words of a query, in the order given.
pub fn words(query: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in normalise(query).split_whitespace() {
        if !words.iter().any(|w| w == word) {
            words.push(word.to_owned());
        }
    }
    words
}

/// A `LIKE` pattern that matches `needle` anywhere, with `\`, `%` and `_` escaped (PostgreSQL's
/// default escape character is `\`).
pub fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_case_fold_to_the_same_text() {
        assert_eq!(normalise("Refund ＡＢＣ"), "refund abc");
        assert_eq!(normalise("ｒｅｆｕｎｄ"), "refund");
        assert_eq!(normalise("ÉCOLE"), "école");
        // Compatibility forms: the circled digit and the ligature.
        assert_eq!(normalise("①ﬁ"), "1fi");
        // Decomposed Hangul (conjoining jamo) composes to the syllables.
        assert_eq!(
            normalise("\u{1112}\u{116A}\u{11AB}\u{1107}\u{116E}\u{11AF}"),
            "환불"
        );
    }

    #[test]
    fn bigrams_skip_white_space_and_repeat_once() {
        assert_eq!(bigrams("배송 지연"), ["배송", "지연"]);
        assert_eq!(bigrams("환불요청"), ["불요", "요청", "환불"]);
        assert_eq!(bigrams("aaaa"), ["aa"]);
        assert!(bigrams("a").is_empty());
        assert!(bigrams("").is_empty());
    }

    #[test]
    fn a_words_bigrams_are_within_the_bigrams_of_every_text_holding_it() {
        for (word, text) in [
            ("환불", "환불요청"),
            ("환불", "환불은 언제"),
            ("fund", "refund abc"),
        ] {
            let of_text = bigrams(text);
            assert!(
                bigrams(word).iter().all(|g| of_text.contains(g)),
                "{word} in {text}"
            );
        }
    }

    #[test]
    fn words_are_normalised_split_and_distinct() {
        assert_eq!(
            words("  환불  ＲＥＦＵＮＤ refund\t배송 "),
            ["환불", "refund", "배송"]
        );
        assert!(words("   ").is_empty());
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern("환불"), "%환불%");
    }
}
