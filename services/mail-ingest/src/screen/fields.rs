//! Reading raw header fields: unfolding, dropping comments, finding a Message-ID. The screen
//! reads headers from their raw text (not mail-parser's typed values) because the signals it
//! looks for are in headers mail-parser does not type (`Auto-Submitted`, `X-Autoreply`, ...),
//! and in header blocks quoted inside bodies (`text/rfc822-headers`, text bounces).

use mail_parser::Message;

/// Joins folded lines: CR and LF become nothing, the whitespace that follows them stays.
pub(crate) fn unfold(raw: &str) -> String {
    raw.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// Removes RFC 5322 comments (`(...)`, nested, with `\` escapes) outside quoted strings.
pub(crate) fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' if depth > 0 || in_quotes => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                in_quotes = !in_quotes;
                out.push(c);
            }
            '(' if !in_quotes => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// A header value as the screen compares it: unfolded, without comments, trimmed.
pub(crate) fn clean(raw: &str) -> String {
    strip_comments(&unfold(raw)).trim().to_string()
}

/// The values of the top-level header `name` (case-insensitive) of `message`, cleaned.
pub(crate) fn values(message: &Message<'_>, name: &str) -> Vec<String> {
    let raw = message.raw_message.as_ref();
    message
        .headers()
        .iter()
        .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .filter_map(|h| raw.get(h.offset_start as usize..h.offset_end as usize))
        .map(|bytes| clean(&String::from_utf8_lossy(bytes)))
        .collect()
}

/// Whether the top-level header `name` is present at all.
pub(crate) fn has(message: &Message<'_>, name: &str) -> bool {
    message
        .headers()
        .iter()
        .any(|h| h.name.as_str().eq_ignore_ascii_case(name))
}

/// The fields of a header block given as text, as (name, unfolded raw value), up to the first
/// blank line. Lines that are not fields (no colon) are skipped, as quoted headers in bounces
/// are often damaged.
pub(crate) fn header_fields(block: &str) -> Vec<(&str, String)> {
    let mut fields: Vec<(&str, String)> = Vec::new();
    for line in block.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if fields.is_empty() {
                continue; // leading blank lines before the quoted header
            }
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str(line);
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim_end();
            if !name.is_empty() && !name.contains(char::is_whitespace) {
                fields.push((name, value.to_string()));
            }
        }
    }
    fields
}

/// The Message-ID in a header value, without angle brackets: the first `<...>`, or the value
/// itself when it is a single bare token with an `@`.
pub(crate) fn message_id(value: &str) -> Option<String> {
    let value = clean(value);
    let id = match value.find('<') {
        Some(open) => {
            let rest = &value[open + 1..];
            &rest[..rest.find('>')?]
        }
        None => value.split_whitespace().next()?,
    };
    let id = id.trim();
    let plausible = !id.is_empty() && id.contains('@') && !id.contains(char::is_whitespace);
    plausible.then(|| id.to_string())
}

/// The local part of an address (`MAILER-DAEMON` of `"Mail Delivery" <MAILER-DAEMON@x>`), or
/// the whole token when it has no `@` (old Sendmail writes `From: MAILER-DAEMON`).
pub(crate) fn local_part(address: &str) -> &str {
    let inner = match (address.rfind('<'), address.rfind('>')) {
        (Some(open), Some(close)) if open < close => &address[open + 1..close],
        _ => address,
    };
    let inner = inner.trim();
    let local = inner.rsplit_once('@').map_or(inner, |(local, _)| local);
    local.trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_dropped_but_not_inside_quotes() {
        assert_eq!(
            clean(" auto-replied (vacation (nested) \\) ) "),
            "auto-replied"
        );
        assert_eq!(clean("\"a (b)\" c"), "\"a (b)\" c");
    }

    #[test]
    fn folded_values_are_unfolded() {
        assert_eq!(unfold("a\r\n b\n\tc"), "a b\tc");
    }

    #[test]
    fn header_fields_of_a_quoted_block() {
        let block = "\r\nMessage-ID:\r\n <x@y>\r\nSubject: hi\r\n\r\nbody: no\r\n";
        let fields = header_fields(block);
        assert_eq!(fields.len(), 2);
        assert_eq!(message_id(&fields[0].1).as_deref(), Some("x@y"));
    }

    #[test]
    fn message_ids() {
        assert_eq!(message_id(" <a.b@c> (comment)").as_deref(), Some("a.b@c"));
        assert_eq!(message_id("a@b").as_deref(), Some("a@b"));
        assert_eq!(message_id("<>"), None);
        assert_eq!(message_id("no id here"), None);
    }

    #[test]
    fn local_parts() {
        assert_eq!(
            local_part("Mail Delivery <MAILER-DAEMON@mx.example>"),
            "MAILER-DAEMON"
        );
        assert_eq!(local_part("postmaster@example.com"), "postmaster");
        assert_eq!(local_part("MAILER-DAEMON"), "MAILER-DAEMON");
    }
}
