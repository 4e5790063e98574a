//! Reading a ticket number out of an e-mail subject: `[#1042]` or `#1042` (ticket_ingest.proto,
//! threading rule 2).

/// The ticket numbers named in `subject`, in order: every `#` followed by digits that is not
/// part of a longer word (`abc#12` is not a number, `[#12]` and `Re: #12` are).
pub fn ticket_numbers(subject: &str) -> Vec<i64> {
    let bytes = subject.as_bytes();
    let mut numbers = Vec::new();
    for (i, _) in subject.match_indices('#') {
        let before_ok = i == 0 || !(bytes[i - 1] as char).is_alphanumeric();
        let digits: &str = {
            let rest = &subject[i + 1..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            &rest[..end]
        };
        let after = subject[i + 1 + digits.len()..].chars().next();
        let after_ok = after.is_none_or(|c| !c.is_alphanumeric());
        let number = digits.parse::<i64>().ok().filter(|n| *n > 0);
        if let Some(number) = number
            && before_ok
            && after_ok
            && digits.len() <= 18
            && !numbers.contains(&number)
        {
            numbers.push(number);
        }
    }
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_brackets_or_alone_are_found_and_words_are_not_numbers() {
        assert_eq!(ticket_numbers("Re: 환불 문의 [#1042]"), [1042]);
        assert_eq!(ticket_numbers("#7 and #8"), [7, 8]);
        assert_eq!(ticket_numbers("RE: #12번 문의"), Vec::<i64>::new());
        assert_eq!(
            ticket_numbers("abc#12 #0 # 5 #99999999999999999999"),
            Vec::<i64>::new()
        );
        assert_eq!(ticket_numbers("(#15)"), [15]);
    }
}
