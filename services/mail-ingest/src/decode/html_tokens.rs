//! A small, forgiving HTML tokenizer for mail bodies, shared by the sanitiser and the text
//! conversion: tags with attributes, text, and the raw text of `<script>`/`<style>`-like
//! elements (whose content is never markup). Comments, doctypes and processing instructions
//! are dropped. It never fails: what is not a tag is text.

/// One piece of an HTML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    Text(&'a str),
    /// `<name ...>` or `</name>`; the name in lower case.
    Tag {
        name: String,
        closing: bool,
        attrs: Vec<(String, String)>,
    },
    /// The content of a raw-text element (`script`, `style`, `title`, `textarea`, ...).
    RawText(&'a str),
}

/// Elements whose content is raw text up to their end tag.
const RAW_TEXT: &[&str] = &[
    "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// Splits `html` into tokens.
pub fn tokenize(html: &str) -> Vec<Token<'_>> {
    let bytes = html.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        let markup_end = if html.get(i..).is_some_and(|s| s.starts_with("<!--")) {
            Some(find(html, i + 4, "-->").map_or(bytes.len(), |e| e + 3))
        } else if next == b'!' || next == b'?' {
            Some(find(html, i, ">").map_or(bytes.len(), |e| e + 1))
        } else {
            None
        };
        if let Some(end) = markup_end {
            push_text(&mut tokens, html, text_start, i);
            i = end;
            text_start = i;
            continue;
        }
        let closing = next == b'/';
        let name_start = if closing { i + 2 } else { i + 1 };
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        push_text(&mut tokens, html, text_start, i);
        let (tag, end) = parse_tag(html, name_start, closing);
        i = end;
        text_start = i;
        let raw_text = match &tag {
            Token::Tag {
                name,
                closing: false,
                ..
            } if RAW_TEXT.contains(&name.as_str()) => Some(name.clone()),
            _ => None,
        };
        tokens.push(tag);
        if let Some(name) = raw_text {
            let close = find_ci(html, i, &format!("</{name}")).unwrap_or(bytes.len());
            if let Some(raw) = html.get(i..close).filter(|r| !r.is_empty()) {
                tokens.push(Token::RawText(raw));
            }
            i = close;
            text_start = i;
        }
    }
    push_text(&mut tokens, html, text_start, bytes.len());
    tokens
}

fn push_text<'a>(tokens: &mut Vec<Token<'a>>, html: &'a str, start: usize, end: usize) {
    if let Some(text) = html.get(start..end).filter(|t| !t.is_empty()) {
        tokens.push(Token::Text(text));
    }
}

fn find(html: &str, from: usize, needle: &str) -> Option<usize> {
    html.get(from..)?.find(needle).map(|p| p + from)
}

fn find_ci(html: &str, from: usize, needle: &str) -> Option<usize> {
    let hay = html.get(from..)?.as_bytes();
    let needle = needle.as_bytes();
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// Parses a tag whose name starts at `start`; returns it and the index after its `>`.
fn parse_tag(html: &str, start: usize, closing: bool) -> (Token<'static>, usize) {
    let bytes = html.as_bytes();
    let mut i = start;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'-' | b':')) {
        i += 1;
    }
    let name = html.get(start..i).unwrap_or_default().to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        if bytes[i] == b'>' {
            i += 1;
            break;
        }
        let name_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        // A stray quote or other byte that makes no name: skip it.
        if i == name_start {
            i += 1;
            continue;
        }
        let attr = html
            .get(name_start..i)
            .unwrap_or_default()
            .to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let end = html
                        .get(i + 1..)
                        .and_then(|s| s.find(q as char))
                        .map_or(bytes.len(), |p| p + i + 1);
                    value = html.get(i + 1..end).unwrap_or_default().to_string();
                    i = (end + 1).min(bytes.len());
                }
                _ => {
                    let v_start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = html.get(v_start..i).unwrap_or_default().to_string();
                }
            }
        }
        attrs.push((attr, value));
    }
    (
        Token::Tag {
            name,
            closing,
            attrs,
        },
        i,
    )
}

/// Decodes character references (`&nbsp;`, `&#54620;`, `&#xD55C;`, `&amp;`) in `text`,
/// through mail-parser's table of HTML entities.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let end = after
            .char_indices()
            .skip(1)
            .take(33)
            .find(|&(_, c)| c == ';' || !(c == '#' || c.is_ascii_alphanumeric()))
            .filter(|&(i, c)| c == ';' && i > 1);
        match end {
            Some((semi, _)) => {
                // ASCII only up to `;`, so the token is valid UTF-8 for mail-parser.
                mail_parser::decoders::html::add_html_token(
                    &mut out,
                    &after.as_bytes()[..=semi],
                    false,
                );
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, closing: bool, attrs: &[(&str, &str)]) -> Token<'static> {
        Token::Tag {
            name: name.into(),
            closing,
            attrs: attrs
                .iter()
                .map(|(a, v)| (a.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn tags_text_and_raw_text() {
        let html = "<P class=x>안녕<!-- c --><BR/><script>if (a<b) x()</script></p>";
        assert_eq!(
            tokenize(html),
            vec![
                tag("p", false, &[("class", "x")]),
                Token::Text("안녕"),
                tag("br", false, &[]),
                tag("script", false, &[]),
                Token::RawText("if (a<b) x()"),
                tag("script", true, &[]),
                tag("p", true, &[]),
            ]
        );
    }

    #[test]
    fn attributes_in_every_quoting() {
        let toks = tokenize("<a href='x y' title=\"t\" data-x=1 checked>");
        assert_eq!(
            toks,
            vec![tag(
                "a",
                false,
                &[
                    ("href", "x y"),
                    ("title", "t"),
                    ("data-x", "1"),
                    ("checked", "")
                ]
            )]
        );
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("&#54620;&#xAE00;&nbsp;&amp;&lt;b&gt; & &bogus; &"),
            "한글\u{a0}&<b> & &bogus; &"
        );
    }

    #[test]
    fn broken_markup_never_panics() {
        for html in [
            "<",
            "<a",
            "<a href=",
            "<a href='",
            "<!--",
            "<!",
            "</",
            "a < b",
            "<p\"'=>",
            "&#",
            "&#99999999999;",
            "<script>",
            "한<글&",
        ] {
            let _ = tokenize(html);
            let _ = decode_entities(html);
        }
    }
}
