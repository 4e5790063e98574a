//! A header's raw text read straight off a mail's first bytes, for the quarantine's listing of
//! mail that could not be parsed (never decoded, never more than a bounded prefix read).

/// How much of a mail is looked at.
const SCAN_BYTES: usize = 64 * 1024;
/// The longest value returned, in characters.
const MAX_CHARS: usize = 200;

/// The first `name:` header of the header block (unfolded, lossy UTF-8, cut to 200
/// characters); empty when none is found.
pub fn raw_header(raw: &[u8], name: &str) -> String {
    let head = String::from_utf8_lossy(&raw[..raw.len().min(SCAN_BYTES)]);
    let mut value: Option<String> = None;
    for line in head.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if let Some(found) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                found.push(' ');
                found.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((field, rest)) = line.split_once(':')
            && field.trim().eq_ignore_ascii_case(name)
        {
            value = Some(rest.trim().to_owned());
        }
    }
    value
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_header_unfolds_and_stops_at_the_body() {
        let raw =
            b"From: a@b.c\r\nSubject: =?UTF-8?B?7ZmY67aI?=\r\n  more\r\n\r\nSubject: body\r\n";
        assert_eq!(raw_header(raw, "subject"), "=?UTF-8?B?7ZmY67aI?= more");
        assert_eq!(raw_header(raw, "From"), "a@b.c");
        assert_eq!(raw_header(b"\r\nSubject: x", "Subject"), "");
        assert_eq!(raw_header(&[0xff, b':', 0xfe], "Subject"), "");
    }
}
