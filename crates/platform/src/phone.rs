//! Phone numbers as the IVR and customers give them ("010-1234-5678", "+82 10 1234 5678",
//! "0212345678"), normalised to E.164 with libphonenumber's metadata.

use phonenumber::{Mode, country};

/// A valid phone number in the two forms callbacks are searched by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// E.164, for example "+821012345678".
    pub e164: String,
    /// The national digits with the trunk prefix, for example "01012345678".
    pub national_digits: String,
}

/// Reads `text` as a phone number; numbers without a country code are read in `region`.
/// `None` when it is not a valid number.
pub fn normalize(text: &str, region: country::Id) -> Option<Phone> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    let number = parse(text, region)?;
    Some(Phone {
        e164: number.format().mode(Mode::E164).to_string(),
        national_digits: digits(&number.format().mode(Mode::National).to_string()),
    })
}

fn parse(text: &str, region: country::Id) -> Option<phonenumber::PhoneNumber> {
    let number = phonenumber::parse(Some(region), text).ok()?;
    if phonenumber::is_valid(&number) {
        return Some(number);
    }
    // "+82 010-…": the trunk 0 written after the country code, common in Korean forms.
    let plus_code = format!("+{}", number.code().value());
    let rest = text
        .strip_prefix(&plus_code)?
        .trim_start_matches([' ', '-', '(', ')']);
    let without_trunk = rest.strip_prefix('0')?;
    let number = phonenumber::parse(Some(region), format!("{plus_code}{without_trunk}")).ok()?;
    phonenumber::is_valid(&number).then_some(number)
}

/// The digits of `text` (a search input), other characters dropped.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The region code of the configuration (for example "KR").
pub fn region(code: &str) -> anyhow::Result<country::Id> {
    code.parse::<country::Id>()
        .map_err(|_| anyhow::anyhow!("callback.default_region {code:?} is not a region code"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kr(text: &str) -> Option<String> {
        normalize(text, country::Id::KR).map(|p| p.e164)
    }

    #[test]
    fn korean_mobile_numbers_in_every_spelling() {
        for text in [
            "010-1234-5678",
            "01012345678",
            "010 1234 5678",
            "+82 10 1234 5678",
            "+821012345678",
            "+82-10-1234-5678",
            "+82 010-1234-5678",
        ] {
            assert_eq!(kr(text).as_deref(), Some("+821012345678"), "{text}");
        }
        let phone = normalize("010-1234-5678", country::Id::KR).unwrap();
        assert_eq!(phone.national_digits, "01012345678");
    }

    #[test]
    fn korean_landlines() {
        assert_eq!(kr("02-123-4567").as_deref(), Some("+8221234567"));
        assert_eq!(kr("0212345678").as_deref(), Some("+82212345678"));
        assert_eq!(kr("031-123-4567").as_deref(), Some("+82311234567"));
        assert_eq!(
            normalize("02-1234-5678", country::Id::KR)
                .unwrap()
                .national_digits,
            "0212345678"
        );
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        assert_eq!(kr("+1 650-253-0000").as_deref(), Some("+16502530000"));
    }

    #[test]
    fn not_numbers_are_refused() {
        for text in [
            "",
            "   ",
            "hello",
            "123",
            "010-1234",
            "anonymous",
            &"1".repeat(80),
        ] {
            assert_eq!(kr(text), None, "{text:?}");
        }
    }
}
