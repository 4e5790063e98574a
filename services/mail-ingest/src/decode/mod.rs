//! A raw mail decoded into what the ticket service stores: addresses, subject and names as
//! UTF-8, the text and HTML bodies, the attachments with their decoded names.
//!
//! mail-parser parses the structure; what it decodes wrongly for Korean mail is decoded here
//! from the raw bytes: the CP949 labels it does not know and ISO-2022-KR ([`charset`],
//! [`iso2022kr`]), characters split across encoded words and 8-bit header text
//! ([`encoded_words`], [`address`], [`params`]), HTML-only mail and unsafe HTML ([`html`]),
//! and winmail.dat ([`tnef`]).

mod address;
mod charset;
mod content_type;
mod encoded_words;
mod html;
mod html_tokens;
mod iso2022kr;
mod params;
mod tnef;
mod transfer;

#[cfg(test)]
mod tests;

use mail_parser::{
    Address, Header, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders,
    PartType,
};

/// A name and an address, as in `From: 김민준 <kim@example.com>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mailbox {
    pub name: String,
    pub address: String,
}

/// One attached (or inline) file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
    /// The Content-ID without angle brackets (inline parts of HTML mail); empty otherwise.
    pub content_id: String,
}

/// What a mail says, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub subject: String,
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Message-IDs without angle brackets.
    pub in_reply_to: Vec<String>,
    /// Message-IDs without angle brackets, oldest first.
    pub references: Vec<String>,
    /// The text body (from the HTML when the mail has only HTML).
    pub text: String,
    /// The HTML body, sanitised; `None` when the mail has none.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// A mail that is not a message (no header at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable(pub String);

impl std::fmt::Display for Undecodable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `raw` (after the screen's limits passed).
pub fn parse(raw: &[u8]) -> Result<Message<'_>, Undecodable> {
    MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or_else(|| Undecodable("not an RFC 5322 message: no header found".into()))
}

/// The raw value of header `name` among `headers` (the first one), bytes as sent.
fn raw_header<'a>(raw: &'a [u8], headers: &[Header<'_>], name: HeaderName<'_>) -> Option<&'a [u8]> {
    let header = headers.iter().find(|h| h.name == name)?;
    raw.get(header.offset_start as usize..header.offset_end as usize)
}

/// The charset of a part's Content-Type.
fn part_charset<'a>(part: &'a MessagePart<'_>) -> Option<&'a str> {
    part.content_type()?.attribute("charset")
}

/// The charset for 8-bit header bytes that are not UTF-8: the message's own Content-Type
/// charset, else that of its first text part.
fn message_charset<'a>(message: &'a Message<'_>) -> Option<&'a str> {
    message.parts.first().and_then(part_charset).or_else(|| {
        message
            .parts
            .iter()
            .filter(|p| matches!(p.body, PartType::Text(_) | PartType::Html(_)))
            .find_map(part_charset)
    })
}

/// The first mailbox of an address header, its display name decoded from the raw header.
fn first_mailbox(
    message: &Message<'_>,
    name: HeaderName<'_>,
    fallback: Option<&str>,
) -> Option<Mailbox> {
    let headers = &message.parts.first()?.headers;
    let header = headers.iter().find(|h| h.name == name)?;
    let addr = header.value.as_address()?.first()?;
    let raw = raw_header(&message.raw_message, headers, name);
    let name = match raw {
        Some(raw) => address::first_name(raw, fallback),
        None => addr.name().unwrap_or_default().to_string(),
    };
    Some(Mailbox {
        name,
        address: addr.address().unwrap_or_default().to_string(),
    })
}

/// The text of a text or HTML part. mail-parser's text is kept unless it misread the
/// charset (a label it does not know, ISO-2022-KR, or unlabelled bytes that are not UTF-8):
/// then the part's raw body is decoded again here.
fn part_text(message: &Message<'_>, part: &MessagePart<'_>, fallback: Option<&str>) -> String {
    let parsed = part.text_contents().unwrap_or_default();
    let label = part_charset(part);
    let known = label.and_then(charset::resolve);
    let misread = match label {
        Some(label) if known.is_some() => charset::mail_parser_misreads(label),
        // Unlabelled, or a label nobody knows: mail-parser read UTF-8.
        _ => parsed.contains('\u{FFFD}'),
    };
    if !misread {
        return parsed.to_string();
    }
    let Some(bytes) = transfer::decode(
        part.encoding,
        transfer::raw_body(&message.raw_message, part),
    ) else {
        return parsed.to_string();
    };
    // The raw body ends where mail-parser's does (before the boundary's line break).
    match known {
        Some(charset) => charset::decode_with(charset, &bytes),
        None => charset::decode_unlabelled(&bytes, fallback),
    }
}

/// The media type of a part, `type/subtype`.
fn media_type(part: &MessagePart<'_>) -> String {
    part.content_type()
        .map(|t| match t.subtype() {
            Some(sub) => format!("{}/{}", t.ctype(), sub),
            None => t.ctype().to_string(),
        })
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The attachments of `message`: names decoded from the raw headers, winmail.dat unpacked,
/// attached mails as `.eml` files.
fn attachments(message: &Message<'_>, fallback: Option<&str>) -> Vec<Attachment> {
    let raw = &message.raw_message;
    let mut out = Vec::new();
    for part in message.attachments() {
        let headers = &part.headers;
        let decoded_name = params::file_name(
            raw_header(raw, headers, HeaderName::ContentDisposition),
            raw_header(raw, headers, HeaderName::ContentType),
            part_charset(part).or(fallback),
        )
        .or_else(|| part.attachment_name().map(str::to_string));
        let mut content_type = media_type(part);
        let content = match &part.body {
            // The file's own bytes, not mail-parser's decoding of them as text.
            PartType::Text(_) | PartType::Html(_) => {
                transfer::decode(part.encoding, transfer::raw_body(raw, part))
                    .unwrap_or_else(|| part.contents().to_vec())
            }
            _ => part.contents().to_vec(),
        };
        let file_name = match &part.body {
            PartType::Message(inner) => {
                content_type = "message/rfc822".into();
                eml_name(decoded_name, inner)
            }
            _ => decoded_name.unwrap_or_else(|| "attachment".to_string()),
        };
        let is_tnef = content_type == "application/ms-tnef"
            || content_type == "application/vnd.ms-tnef"
            || file_name.eq_ignore_ascii_case("winmail.dat");
        if is_tnef && let Some(files) = tnef::unpack(&content) {
            out.extend(files.into_iter().map(|f| Attachment {
                content_type: content_type::guess(&f.name).to_string(),
                file_name: f.name,
                content: f.content,
                content_id: String::new(),
            }));
            continue;
        }
        out.push(Attachment {
            file_name,
            content_type,
            content,
            content_id: part
                .content_id()
                .unwrap_or_default()
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string(),
        });
    }
    out
}

/// The name of an attached mail: its own name, else its subject, always ending in `.eml`.
fn eml_name(name: Option<String>, inner: &Message<'_>) -> String {
    let subject = || {
        let headers = inner
            .parts
            .first()
            .map(|p| p.headers.as_slice())
            .unwrap_or_default();
        raw_header(&inner.raw_message, headers, HeaderName::Subject)
            .map(|raw| encoded_words::decode(raw, message_charset(inner)))
            .map(|s| s.replace(['/', '\\', ':', '*', '?', '"', '<', '>', '|'], "_"))
            .filter(|s| !s.is_empty())
    };
    let name = name
        .filter(|n| !n.is_empty())
        .or_else(subject)
        .unwrap_or_else(|| "message".into());
    if name.to_ascii_lowercase().ends_with(".eml") {
        name
    } else {
        format!("{name}.eml")
    }
}

fn addresses(address: Option<&Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Message-IDs without angle brackets, in header order (References: oldest first).
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .map(|list| {
            list.iter()
                .map(|id| strip_angles(id))
                .filter(|id| !id.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn strip_angles(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

/// What `message` says.
pub fn decode(message: &Message<'_>) -> Decoded {
    let fallback = message_charset(message);
    let raw = &message.raw_message;
    let top = message
        .parts
        .first()
        .map(|p| p.headers.as_slice())
        .unwrap_or_default();
    let subject = raw_header(raw, top, HeaderName::Subject)
        .map(|raw| encoded_words::decode(raw, fallback))
        .unwrap_or_default();
    let texts: Vec<String> = message
        .text_body
        .iter()
        .filter_map(|&id| message.part(id))
        .filter(|p| matches!(p.body, PartType::Text(_)))
        .map(|p| part_text(message, p, fallback))
        .collect();
    let html_raw: Option<String> = message
        .html_body
        .iter()
        .filter_map(|&id| message.part(id))
        .find(|p| matches!(p.body, PartType::Html(_)))
        .map(|p| part_text(message, p, fallback));
    let text = if texts.is_empty() {
        html_raw.as_deref().map(html::to_text).unwrap_or_default()
    } else {
        texts.join("\n")
    };
    Decoded {
        message_id: message.message_id().map(strip_angles),
        subject,
        from: first_mailbox(message, HeaderName::From, fallback),
        reply_to: first_mailbox(message, HeaderName::ReplyTo, fallback),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        text,
        html: html_raw.as_deref().map(html::sanitize),
        attachments: attachments(message, fallback),
    }
}
