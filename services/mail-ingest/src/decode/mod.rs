//! A raw mail decoded into what the ticket service stores: addresses, subject and names as
//! UTF-8, the text and HTML bodies, the attachments with their decoded names.
//!
//! BASELINE: mail-parser's own decoding. The pieces it lacks (the CP949 labels, ISO-2022-KR,
//! a character split across two encoded words, HTML-only mail, TNEF) come in this folder.

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders};

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

fn first(address: Option<&Address<'_>>) -> Option<Mailbox> {
    let addr = address?.first()?;
    Some(Mailbox {
        name: addr.name().unwrap_or_default().to_string(),
        address: addr.address().unwrap_or_default().to_string(),
    })
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

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .map(|list| list.iter().map(|id| id.to_string()).collect())
        .unwrap_or_default()
}

/// What `message` says.
pub fn decode(message: &Message<'_>) -> Decoded {
    let attachments = message
        .attachments()
        .map(|part| Attachment {
            file_name: part.attachment_name().unwrap_or("attachment").to_string(),
            content_type: part
                .content_type()
                .map(|t| match t.subtype() {
                    Some(sub) => format!("{}/{}", t.ctype(), sub),
                    None => t.ctype().to_string(),
                })
                .unwrap_or_default(),
            content: part.contents().to_vec(),
            content_id: part.content_id().unwrap_or_default().to_string(),
        })
        .collect();
    Decoded {
        message_id: message.message_id().map(str::to_string),
        subject: message.subject().unwrap_or_default().to_string(),
        from: first(message.from()),
        reply_to: first(message.reply_to()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: message.body_html(0).map(|h| h.into_owned()),
        attachments,
    }
}
