//! Making what we put in an outbound mail's header safe, whoever wrote it (an agent, a
//! customer's name, a subject copied from the customer's mail). A CR or LF in a header value
//! starts a new header (`Bcc:` injection) or, sent raw, a new SMTP command; and lettre 0.11.23,
//! which sends our mail, has open advisories: dot-stuffing that misses a `.` after a bare CR or
//! LF (SMTP command injection through a body), a panic on CR/LF in a display name, a panic on a
//! whitespace-only EHLO line. So nothing reaches lettre with a control character in a header
//! or a bare CR or LF in a body. Pure functions: the sender calls them on every value.

/// The most characters of a subject we send: RFC 5322 allows 998 bytes a line; 500 ASCII
/// characters stay well under it, and a non-ASCII subject is sent as RFC 2047 encoded words
/// that lettre folds over several lines.
pub const MAX_SUBJECT_CHARS: usize = 500;

/// The most characters of a display name we send.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;

/// RFC 5321: a path is at most 256 octets with its angle brackets.
pub const MAX_ADDRESS_BYTES: usize = 254;

/// RFC 5321: a local part is at most 64 octets.
pub const MAX_LOCAL_PART_BYTES: usize = 64;

/// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators become one
/// space each, runs of whitespace one space, and the ends are trimmed.
fn one_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut pending_space = false;
    let mut chars = 0usize;
    for c in text.chars() {
        if c.is_control() || c.is_whitespace() || c == '\u{2028}' || c == '\u{2029}' {
            pending_space = !out.is_empty();
            continue;
        }
        let needed = if pending_space { 2 } else { 1 };
        if chars + needed > max_chars {
            break;
        }
        if pending_space {
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        out.push(c);
        chars += 1;
    }
    out
}

/// A display name safe for `From:`/`To:`: one line, at most [`MAX_DISPLAY_NAME_CHARS`].
pub fn safe_display_name(name: &str) -> String {
    one_line(name, MAX_DISPLAY_NAME_CHARS)
}

/// A subject safe for `Subject:`: one line, at most [`MAX_SUBJECT_CHARS`].
pub fn safe_subject(subject: &str) -> String {
    one_line(subject, MAX_SUBJECT_CHARS)
}

/// What is wrong with an address we were asked to send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsafeAddress {
    Empty,
    /// A CR or LF: would start a new header or SMTP command.
    LineBreak,
    /// Another control character.
    ControlCharacter,
    /// A space or tab.
    Whitespace,
    /// `<` or `>`: would end the SMTP path early.
    AngleBracket,
    /// Not `local@domain` (no `@`, an empty side, quoting, a character an address cannot hold
    /// unquoted, or a domain that is not dot-separated labels).
    NotLocalAtDomain,
    TooLong {
        bytes: usize,
        max: usize,
    },
}

impl std::fmt::Display for UnsafeAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("the address is empty"),
            Self::LineBreak => f.write_str("the address contains a line break (CR or LF)"),
            Self::ControlCharacter => f.write_str("the address contains a control character"),
            Self::Whitespace => f.write_str("the address contains whitespace"),
            Self::AngleBracket => f.write_str("the address contains '<' or '>'"),
            Self::NotLocalAtDomain => f.write_str("the address is not of the form local@domain"),
            Self::TooLong { bytes, max } => {
                write!(f, "the address is {bytes} bytes, over the limit of {max}")
            }
        }
    }
}

impl std::error::Error for UnsafeAddress {}

/// RFC 5322 `atext` for ASCII; any non-ASCII character that is not a control (RFC 6531 allows
/// UTF-8 local parts).
fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii()
}

fn is_domain_valid(domain: &str) -> bool {
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
}

/// `address` when it is a plain `local@domain` safe for a header and an SMTP `RCPT TO`;
/// otherwise what is wrong with it. Nothing is trimmed or repaired: an address that needs it
/// came from somewhere that should be fixed.
pub fn safe_address(address: &str) -> Result<&str, UnsafeAddress> {
    if address.is_empty() {
        return Err(UnsafeAddress::Empty);
    }
    if address.contains(['\r', '\n']) {
        return Err(UnsafeAddress::LineBreak);
    }
    if address.chars().any(char::is_control) {
        return Err(UnsafeAddress::ControlCharacter);
    }
    if address.chars().any(char::is_whitespace) {
        return Err(UnsafeAddress::Whitespace);
    }
    if address.contains(['<', '>']) {
        return Err(UnsafeAddress::AngleBracket);
    }
    if address.len() > MAX_ADDRESS_BYTES {
        return Err(UnsafeAddress::TooLong {
            bytes: address.len(),
            max: MAX_ADDRESS_BYTES,
        });
    }
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or(UnsafeAddress::NotLocalAtDomain)?;
    if local.len() > MAX_LOCAL_PART_BYTES {
        return Err(UnsafeAddress::TooLong {
            bytes: local.len(),
            max: MAX_LOCAL_PART_BYTES,
        });
    }
    let local_ok = !local.is_empty()
        && local.chars().all(is_local_char)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok || !is_domain_valid(domain) {
        return Err(UnsafeAddress::NotLocalAtDomain);
    }
    Ok(address)
}

/// `text` with every line ending as CRLF: CRLF stays, a bare CR and a bare LF each become
/// CRLF. After it a body has no bare CR or LF, so the dot-stuffing of the SMTP client (which
/// only looks after CRLF) sees every line; the stuffing itself stays the client's job.
pub fn normalize_body_crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_bare_line_breaks(text: &str) -> bool {
        let bytes = text.as_bytes();
        bytes.iter().enumerate().all(|(i, &b)| match b {
            b'\r' => bytes.get(i + 1) == Some(&b'\n'),
            b'\n' => i > 0 && bytes[i - 1] == b'\r',
            _ => true,
        })
    }

    #[test]
    fn a_subject_cannot_add_a_header() {
        assert_eq!(
            safe_subject("Subject\r\nBcc: x@evil"),
            "Subject Bcc: x@evil"
        );
        assert_eq!(
            safe_subject("a\rb\u{0}c\u{7f}d\u{85}e\u{2028}f"),
            "a b c d e f"
        );
        assert_eq!(safe_subject("  \t \r\n "), "");
        assert_eq!(safe_subject(" Re:   [#1]\t환불 "), "Re: [#1] 환불");
    }

    #[test]
    fn a_display_name_cannot_add_a_header() {
        assert_eq!(safe_display_name("name\nX-Evil: 1"), "name X-Evil: 1");
        assert_eq!(safe_display_name("\r\n김민준\r\n"), "김민준");
    }

    #[test]
    fn lengths_are_cut_on_characters() {
        let subject = safe_subject(&"가".repeat(2_000));
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS);
        let subject = safe_subject(&"x".repeat(2_000));
        assert!(subject.len() <= 998);
        let name = safe_display_name(&"a ".repeat(1_000));
        assert!(name.chars().count() <= MAX_DISPLAY_NAME_CHARS);
        assert!(!name.ends_with(' '));
    }

    #[test]
    fn an_address_cannot_add_an_smtp_command() {
        assert_eq!(
            safe_address("a@b.c\r\nRCPT TO:<x>"),
            Err(UnsafeAddress::LineBreak)
        );
        assert_eq!(safe_address("a@b.c\nx"), Err(UnsafeAddress::LineBreak));
        assert_eq!(
            safe_address("a@b.c\u{0}"),
            Err(UnsafeAddress::ControlCharacter)
        );
        assert_eq!(safe_address("a b@c.d"), Err(UnsafeAddress::Whitespace));
        assert_eq!(safe_address("a@b.c>x"), Err(UnsafeAddress::AngleBracket));
        assert_eq!(safe_address("<a@b.c>"), Err(UnsafeAddress::AngleBracket));
        assert_eq!(safe_address(""), Err(UnsafeAddress::Empty));
        for bad in [
            "abc",
            "@b.c",
            "a@",
            "a@b..c",
            "a@-b.c",
            ".a@b.c",
            "a..b@c.d",
            "\"a\"@b.c",
            "a,b@c.d",
            "a@b.c@",
        ] {
            assert_eq!(
                safe_address(bad),
                Err(UnsafeAddress::NotLocalAtDomain),
                "{bad}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert_eq!(
            safe_address(&long),
            Err(UnsafeAddress::TooLong { bytes: 65, max: 64 })
        );
        assert!(UnsafeAddress::LineBreak.to_string().contains("line break"));
    }

    #[test]
    fn ordinary_addresses_pass() {
        for good in [
            "kim@example.com",
            "a.b+tag@mail.example.co.kr",
            "김민준@example.kr",
            "user@localhost",
        ] {
            assert_eq!(safe_address(good), Ok(good));
        }
    }

    #[test]
    fn bodies_get_crlf_everywhere() {
        let body = normalize_body_crlf("hi\n.\nRCPT TO:<x@evil>\n");
        assert_eq!(body, "hi\r\n.\r\nRCPT TO:<x@evil>\r\n");
        let body = normalize_body_crlf("hi\r.\rQUIT\r");
        assert_eq!(body, "hi\r\n.\r\nQUIT\r\n");
        let mixed = normalize_body_crlf("a\r\nb\n\rc\r\r\nd\n\ne");
        assert_eq!(mixed, "a\r\nb\r\n\r\nc\r\n\r\nd\r\n\r\ne");
        for body in ["a\n.\nb", "a\r.\rb", "\r\n\r", "\n\r\n\r", "x"] {
            assert!(no_bare_line_breaks(&normalize_body_crlf(body)), "{body:?}");
        }
    }
}
