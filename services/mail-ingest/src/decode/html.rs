//! HTML bodies: sanitised for the agents' console, and turned into text for mail that has
//! only HTML. mail-parser's `html_to_text` breaks lines only at `<br>` and `</p>` (list items
//! and `<div>`s run together), so the text is made here from the same tokens as the sanitiser.
//!
//! The sanitiser is an allow-list (tags, attributes, URL schemes) rather than ammonia 4, which
//! brings html5ever, cssparser and url/ICU: 60 s of a fresh debug build on this two-core
//! machine. Whatever is not known to be harmless is dropped. `cid:` URLs are kept (inline images of the mail itself).

use super::html_tokens::{Token, decode_entities, tokenize};

/// Tags kept (their attributes filtered).
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "abbr",
    "address",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
];

/// Tags dropped with everything inside them.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "form", "head", "title", "template",
    "noscript", "noembed", "noframes", "frameset", "frame", "applet", "svg", "math", "textarea",
    "select", "button", "xmp",
];

/// Attributes kept on any allowed tag (`on*` handlers, `id`, `srcset` never are).
const ALLOWED_ATTRS: &[&str] = &[
    "href",
    "src",
    "alt",
    "title",
    "width",
    "height",
    "align",
    "valign",
    "colspan",
    "rowspan",
    "border",
    "cellpadding",
    "cellspacing",
    "bgcolor",
    "color",
    "face",
    "size",
    "style",
    "class",
    "dir",
    "lang",
    "start",
    "type",
    "cite",
];

/// The deepest nesting tracked (dropped elements, lists).
const MAX_DEPTH: usize = 64;

/// Elements with no end tag.
const VOID: &[&str] = &["br", "hr", "img", "col", "embed", "frame", "input"];

/// Tracks the elements dropped with their content; true when `name` is one (the tag itself
/// is then dropped). A void one (`<embed>`) has no content; `<body>` ends a `<head>` left open
/// (its end tag is optional).
fn skips(dropped: &mut Vec<String>, name: &str, closing: bool) -> bool {
    if name == "body" && !closing {
        if let Some(pos) = dropped.iter().position(|n| n == "head") {
            dropped.truncate(pos);
        }
        return false;
    }
    if !DROPPED_WITH_CONTENT.contains(&name) {
        return false;
    }
    if closing {
        if let Some(pos) = dropped.iter().rposition(|n| n == name) {
            dropped.truncate(pos);
        }
    } else if !VOID.contains(&name) && dropped.len() < MAX_DEPTH {
        // Past the bound an end tag may end the dropping early: what follows is still
        // sanitised (script and style text never comes out), so a hostile nesting costs
        // no more than MAX_DEPTH per end tag.
        dropped.push(name.to_string());
    }
    true
}

/// The HTML with only allowed tags, attributes and URLs.
pub fn sanitize(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    // The open elements dropped with their content (while any is open, all is skipped).
    let mut dropped: Vec<String> = Vec::new();
    for token in tokenize(html) {
        match token {
            Token::Tag { name, closing, .. } if skips(&mut dropped, &name, closing) => {}
            _ if !dropped.is_empty() => {}
            Token::Text(text) => out.push_str(&text.replace('<', "&lt;").replace('>', "&gt;")),
            Token::RawText(_) => {}
            Token::Tag {
                name,
                closing,
                attrs,
            } => {
                if !ALLOWED_TAGS.contains(&name.as_str()) {
                    continue;
                }
                if closing {
                    if !VOID.contains(&name.as_str()) {
                        out.push_str(&format!("</{name}>"));
                    }
                    continue;
                }
                out.push('<');
                out.push_str(&name);
                for (attr, value) in attrs {
                    if !allowed_attr(&name, &attr, &value) {
                        continue;
                    }
                    out.push_str(&format!(" {attr}=\"{}\"", escape_attr(&value)));
                }
                out.push('>');
            }
        }
    }
    out
}

fn allowed_attr(tag: &str, attr: &str, value: &str) -> bool {
    if !ALLOWED_ATTRS.contains(&attr) {
        return false;
    }
    match attr {
        "href" | "src" | "cite" => allowed_url(tag, attr, value),
        "style" => {
            let v = normalised(value);
            !(v.contains("&#")
                || v.contains('\\')
                || v.contains("expression")
                || v.contains("javascript:")
                || v.contains("vbscript:")
                || v.contains("url(")
                || v.contains("@import")
                || v.contains("behavior"))
        }
        _ => true,
    }
}

/// The value as a browser reads it, for the checks: entities decoded, controls and
/// whitespace removed (`java&#x09;script:`), lower case.
fn normalised(value: &str) -> String {
    decode_entities(value)
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// http, https, mailto, tel, cid, relative URLs and fragments; `data:image/` only as an
/// image's source (not SVG, which can carry script).
fn allowed_url(tag: &str, attr: &str, value: &str) -> bool {
    let url = normalised(value);
    // A numeric reference left undecoded lacks its `;`, which browsers still decode in
    // attributes (`javascript&#58alert(1)`): such a URL is refused rather than guessed.
    if url.contains("&#") {
        return false;
    }
    let scheme_end = url.find(':');
    let first_delimiter = url.find(['/', '?', '#']);
    let scheme = match (scheme_end, first_delimiter) {
        (Some(c), Some(d)) if d < c => return true,
        (Some(c), _) => &url[..c],
        (None, _) => return true,
    };
    match scheme {
        "http" | "https" | "mailto" | "tel" | "cid" => true,
        "data" => {
            tag == "img"
                && attr == "src"
                && url.starts_with("data:image/")
                && !url.starts_with("data:image/svg")
        }
        _ => false,
    }
}

fn escape_attr(value: &str) -> String {
    value
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Tags that end a line of text (before and after them).
const BLOCK: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "table",
    "tr",
    "blockquote",
    "pre",
    "hr",
    "dl",
    "dt",
    "dd",
    "address",
    "center",
    "li",
    "caption",
    "tbody",
    "thead",
    "tfoot",
];

/// Tags whose start and end leave a blank line (paragraphs).
const PARAGRAPH: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "table",
];

/// The text of an HTML body: paragraphs separated by a blank line, `<br>` a line break,
/// list items as `- item` (`1. item` in ordered lists), cells separated by a tab, entities
/// decoded, runs of whitespace one space (kept as is in `<pre>`).
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut dropped: Vec<String> = Vec::new();
    // One entry per open list: `None` unordered, `Some(n)` the next number of an ordered one.
    let mut lists: Vec<Option<u32>> = Vec::new();
    let mut pre = 0u32;
    let mut first_cell = true;
    for token in tokenize(html) {
        match token {
            Token::Tag { name, closing, .. } if skips(&mut dropped, &name, closing) => {}
            _ if !dropped.is_empty() => {}
            Token::RawText(_) => {}
            Token::Text(text) => {
                let text = decode_entities(text).replace('\u{a0}', " ");
                if pre > 0 {
                    out.push_str(&text);
                    continue;
                }
                for (i, word) in text.split_whitespace().enumerate() {
                    let starts_with_space = i > 0 || text.starts_with(char::is_whitespace);
                    if starts_with_space && !out.is_empty() && !out.ends_with(['\n', ' ', '\t']) {
                        out.push(' ');
                    }
                    out.push_str(word);
                }
                if text.ends_with(char::is_whitespace)
                    && !out.is_empty()
                    && !out.ends_with(['\n', ' ', '\t'])
                {
                    out.push(' ');
                }
            }
            Token::Tag {
                name,
                closing,
                attrs,
            } => match name.as_str() {
                "br" => newline(&mut out),
                "td" | "th" if !closing => {
                    if !first_cell {
                        trim_end_spaces(&mut out);
                        out.push('\t');
                    }
                    first_cell = false;
                }
                "ul" | "ol" if !closing => {
                    let start = attrs
                        .iter()
                        .find(|(a, _)| a == "start")
                        .and_then(|(_, v)| v.trim().parse().ok())
                        .unwrap_or(1);
                    if lists.len() < MAX_DEPTH {
                        lists.push((name == "ol").then_some(start));
                    }
                    newline(&mut out);
                }
                "ul" | "ol" => {
                    lists.pop();
                    newline(&mut out);
                    if lists.is_empty() {
                        blank_line(&mut out);
                    }
                }
                "li" if !closing => {
                    newline(&mut out);
                    let depth = lists.len().saturating_sub(1).min(MAX_DEPTH);
                    out.push_str(&"  ".repeat(depth));
                    match lists.last_mut() {
                        Some(Some(n)) => {
                            out.push_str(&format!("{n}. "));
                            *n += 1;
                        }
                        _ => out.push_str("- "),
                    }
                }
                "pre" => {
                    if closing {
                        pre = pre.saturating_sub(1);
                    } else {
                        pre += 1;
                    }
                    blank_line(&mut out);
                }
                "tr" => {
                    first_cell = true;
                    newline(&mut out);
                }
                _ if PARAGRAPH.contains(&name.as_str()) => blank_line(&mut out),
                _ if BLOCK.contains(&name.as_str()) => newline(&mut out),
                _ => {}
            },
        }
    }
    finish(&out)
}

fn trim_end_spaces(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
}

/// Ends the current line unless it is empty.
fn newline(out: &mut String) {
    trim_end_spaces(out);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Leaves one blank line unless at the start or after one.
fn blank_line(out: &mut String) {
    newline(out);
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// Lines without trailing spaces, at most one blank line in a row, no blank start or end.
fn finish(out: &str) -> String {
    let mut text = String::with_capacity(out.len());
    let mut blank = 0;
    for line in out.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        text.push_str(line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_paragraphs_breaks_lists_entities() {
        let html = "<html><head><title>제목</title><style>p{color:red}</style></head><body>\
            <p>안녕하세요,&nbsp;고객님.</p><p>주문하신 상품은<br>내일 도착합니다.</p>\
            <ul><li>상품: 노트북</li><li>수량: 1 &amp; 2</li></ul>\
            <ol><li>첫째</li><li>둘째</li></ol>\
            <div>&#54620;&#xAE00; 끝</div></body></html>";
        assert_eq!(
            to_text(html),
            "안녕하세요, 고객님.\n\n주문하신 상품은\n내일 도착합니다.\n\n- 상품: 노트북\n- 수량: 1 & 2\n\n1. 첫째\n2. 둘째\n\n한글 끝"
        );
    }

    #[test]
    fn tables_and_inline_spacing() {
        let html = "<table><tr><td>이름</td><td>김민준</td></tr><tr><td>전화</td><td>010</td></tr></table>\
            <span>굵은</span> <b>글씨</b>와 <i>기울임</i>";
        assert_eq!(
            to_text(html),
            "이름\t김민준\n전화\t010\n\n굵은 글씨와 기울임"
        );
    }

    #[test]
    fn sanitize_drops_active_content() {
        let html = "<p onclick=\"x()\" style=\"color:red\">hi<script>alert(1)</script></p>\
            <style>body{}</style><iframe src=\"https://e.com\"></iframe>\
            <object data=\"x\"><embed src=\"y\"></object><form action=\"/p\"><input name=a>text</form>\
            <a href=\"javascript:alert(1)\">j</a><a href=\"JaVa&#x09;script:x\">k</a>\
            <a href=\"vbscript:x\">v</a><a href=\"data:text/html,x\">d</a>\
            <a href=\"https://example.com/?a=1&amp;b=2\" target=_blank>ok</a>\
            <img src=\"cid:logo@mail\" alt=\"로고\" onerror=\"x()\">\
            <img src=\"data:image/png;base64,iVBOR\"><img src=\"data:image/svg+xml,<svg>\">\
            <div style=\"background:url(javascript:x)\">s</div>";
        assert_eq!(
            sanitize(html),
            "<p style=\"color:red\">hi</p>\
            <a>j</a><a>k</a><a>v</a><a>d</a>\
            <a href=\"https://example.com/?a=1&amp;b=2\">ok</a>\
            <img src=\"cid:logo@mail\" alt=\"로고\">\
            <img src=\"data:image/png;base64,iVBOR\"><img>\
            <div>s</div>"
        );
    }

    #[test]
    fn sanitize_refuses_references_without_semicolon() {
        assert_eq!(
            sanitize(
                "<a href=\"javascript&#58alert(1)\">x</a><b style=\"x:\\65xpression(1)\">y</b>"
            ),
            "<a>x</a><b>y</b>"
        );
    }

    #[test]
    fn sanitize_keeps_relative_and_mailto() {
        assert_eq!(
            sanitize("<a href=\"/faq#a:b\">f</a><a href=\"mailto:help@example.com\">m</a>"),
            "<a href=\"/faq#a:b\">f</a><a href=\"mailto:help@example.com\">m</a>"
        );
    }

    #[test]
    fn lone_embed_and_unclosed_head() {
        assert_eq!(sanitize("<embed src=x>after"), "after");
        assert_eq!(
            to_text("<html><head><title>t</title><body><p>본문</p>"),
            "본문"
        );
    }

    #[test]
    fn hostile_nesting_stays_small() {
        let html = format!("{}{}", "<ul>".repeat(20_000), "<li>x".repeat(20_000));
        assert!(to_text(&html).len() < 20_000 * 200);
        let html = format!("{}{}", "<svg>".repeat(20_000), "</form>".repeat(20_000));
        assert_eq!(sanitize(&html), "");
    }

    #[test]
    fn broken_html_never_panics() {
        for html in [
            "<p",
            "<ul><li>a",
            "</ol></ol><li>x",
            "<pre>a\n b",
            "<script>x",
            "<td><td>",
        ] {
            let _ = sanitize(html);
            let _ = to_text(html);
        }
    }
}
