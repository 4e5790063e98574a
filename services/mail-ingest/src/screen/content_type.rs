//! Reading a raw `Content-Type` value for the pre-scan: the media type and the boundary. It
//! must find the boundary wherever mail-parser finds it (quoted or not, after comments, split
//! by RFC 2231 into `boundary*0`, `boundary*1`, ...), or a crafted mail would nest parts the
//! pre-scan does not count.

/// What the pre-scan needs of a `Content-Type`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MediaType {
    /// Lower-case, empty when the value has none.
    pub(crate) main: String,
    /// Lower-case, empty when the value has none.
    pub(crate) sub: String,
    /// The `boundary` parameter, unquoted; `None` when absent.
    pub(crate) boundary: Option<Vec<u8>>,
}

const TSPECIALS: &[u8] = b"()<>@,;:\\\"/[]?=";

fn is_token(byte: u8) -> bool {
    byte > b' ' && byte != 0x7f && !TSPECIALS.contains(&byte)
}

/// A cursor over the value that skips folding whitespace and comments.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_cfws(&mut self) {
        let mut depth = 0usize;
        while let Some(byte) = self.peek() {
            match byte {
                b'(' => depth += 1,
                b')' if depth > 0 => depth -= 1,
                b'\\' if depth > 0 => self.pos += 1,
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ if depth > 0 => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &[u8] {
        let start = self.pos;
        while self.peek().is_some_and(is_token) {
            self.pos += 1;
        }
        &self.bytes[start..self.pos]
    }

    /// A parameter value: a quoted string (escapes removed) or, leniently, everything up to
    /// the next `;`, whitespace or comment (`boundary=----=_Part_1` is common unquoted).
    fn value(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.peek() == Some(b'"') {
            self.pos += 1;
            while let Some(byte) = self.peek() {
                self.pos += 1;
                match byte {
                    b'"' => break,
                    b'\\' => {
                        if let Some(next) = self.peek() {
                            out.push(next);
                            self.pos += 1;
                        }
                    }
                    b'\r' | b'\n' => {}
                    _ => out.push(byte),
                }
            }
        } else {
            while let Some(byte) = self.peek() {
                if matches!(byte, b';' | b' ' | b'\t' | b'\r' | b'\n' | b'(') {
                    break;
                }
                out.push(byte);
                self.pos += 1;
            }
        }
        out
    }

    /// Skips to just after the next `;` outside quotes (recovery from a damaged parameter).
    fn skip_past_semicolon(&mut self) {
        let mut in_quotes = false;
        while let Some(byte) = self.peek() {
            self.pos += 1;
            match byte {
                b'"' => in_quotes = !in_quotes,
                b'\\' if in_quotes => self.pos += 1,
                b';' if !in_quotes => return,
                _ => {}
            }
        }
    }
}

/// RFC 2231 `charset'language'percent-encoded` → the decoded bytes.
fn extended_value(value: &[u8], first: bool) -> Vec<u8> {
    let value = if first {
        value
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\'')
            .nth(1)
            .map_or(value, |(i, _)| &value[i + 1..])
    } else {
        value
    };
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
        match (value[i], hex(value.get(i + 1)), hex(value.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Parses a raw `Content-Type` value (the bytes after the colon, folded or not).
pub(crate) fn parse(raw: &[u8]) -> MediaType {
    let mut cursor = Cursor { bytes: raw, pos: 0 };
    let mut media = MediaType::default();
    cursor.skip_cfws();
    let main = cursor.token().to_ascii_lowercase();
    cursor.skip_cfws();
    if cursor.peek() == Some(b'/') {
        cursor.pos += 1;
        cursor.skip_cfws();
        media.sub = String::from_utf8_lossy(&cursor.token().to_ascii_lowercase()).into_owned();
    }
    media.main = String::from_utf8_lossy(&main).into_owned();

    let mut plain: Option<Vec<u8>> = None;
    let mut pieces: Vec<(u32, Vec<u8>)> = Vec::new();
    loop {
        cursor.skip_past_semicolon();
        if cursor.peek().is_none() {
            break;
        }
        cursor.skip_cfws();
        let name = cursor.token().to_ascii_lowercase();
        cursor.skip_cfws();
        if cursor.peek() != Some(b'=') {
            continue;
        }
        cursor.pos += 1;
        cursor.skip_cfws();
        let value = cursor.value();
        let Some(rest) = name.strip_prefix(b"boundary") else {
            continue;
        };
        match rest {
            b"" => plain = plain.or(Some(value)),
            b"*" => pieces.push((0, extended_value(&value, true))),
            _ => {
                let Some(rest) = rest.strip_prefix(b"*") else {
                    continue;
                };
                let (digits, encoded) = match rest.strip_suffix(b"*") {
                    Some(digits) => (digits, true),
                    None => (rest, false),
                };
                let Some(n) = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse::<u32>().ok())
                else {
                    continue;
                };
                let value = if encoded {
                    extended_value(&value, n == 0)
                } else {
                    value
                };
                pieces.push((n, value));
            }
        }
    }
    media.boundary = plain.or_else(|| {
        if pieces.is_empty() {
            return None;
        }
        pieces.sort_by_key(|(n, _)| *n);
        Some(pieces.into_iter().flat_map(|(_, v)| v).collect())
    });
    media
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boundary(raw: &str) -> Option<String> {
        parse(raw.as_bytes())
            .boundary
            .map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn type_and_subtype() {
        let m = parse(b" Multipart/Mixed (a comment); boundary=x");
        assert_eq!((m.main.as_str(), m.sub.as_str()), ("multipart", "mixed"));
        let m = parse(b" text (c) / plain ; charset=utf-8");
        assert_eq!((m.main.as_str(), m.sub.as_str()), ("text", "plain"));
    }

    #[test]
    fn boundaries_quoted_unquoted_and_odd() {
        assert_eq!(
            boundary("multipart/mixed; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("multipart/mixed;\r\n\tBOUNDARY=\"----=_Part_0_1.2\"").as_deref(),
            Some("----=_Part_0_1.2")
        );
        assert_eq!(
            boundary("multipart/mixed; boundary=----=_NextPart_000_0001_01D8").as_deref(),
            Some("----=_NextPart_000_0001_01D8")
        );
        assert_eq!(
            boundary("multipart/mixed; charset=\"a;b\"; boundary=\"q\\\"x y'()+,./:=?\"")
                .as_deref(),
            Some("q\"x y'()+,./:=?")
        );
        assert_eq!(
            boundary("multipart/mixed; (boundary=no) boundary = (c) yes").as_deref(),
            Some("yes")
        );
        assert_eq!(boundary("multipart/mixed"), None);
    }

    #[test]
    fn rfc2231_boundaries() {
        assert_eq!(
            boundary("multipart/mixed; boundary*1=\"def\"; boundary*0=\"abc\"").as_deref(),
            Some("abcdef")
        );
        assert_eq!(
            boundary("multipart/mixed; boundary*=us-ascii'en'a%2Db").as_deref(),
            Some("a-b")
        );
    }
}
