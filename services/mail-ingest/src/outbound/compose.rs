//! A reply event made into the mail sent: threaded (our Message-ID, In-Reply-To, References,
//! the `[#n]` tag the ticket service put in the subject), text and HTML, attachments.
//!
//! lettre 0.11.23 (the newest the registry serves) has open advisories, kept off the wire here:
//! RUSTSEC-2026-0561 (dot-stuffing after a bare CR or LF lets a body inject SMTP commands):
//! every body is normalised to CRLF and sent base64-encoded, so no line of the wire body starts
//! with a dot; -0564 (a panic on CR/LF in a display name) and header injection in general:
//! names and subjects lose their control characters, and addresses with any are refused;
//! -0562 (a panic on a whitespace-only EHLO line from the server): see `smtp.rs`.

use lettre::{
    Message,
    message::{
        Attachment, Mailbox, MultiPart, SinglePart,
        header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue},
    },
};
use switchboard_proto::{events::v1::TicketReplyRequested, ticket::v1::TicketMessageKind};

use crate::screen::{normalize_body_crlf, safe_address, safe_display_name, safe_subject};

/// One attachment's content, fetched from the ticket service.
pub struct File {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Why a reply cannot be made into a mail: never retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsendable(pub String);

fn mailbox(name: &str, address: &str, field: &str) -> Result<Mailbox, Unsendable> {
    let address = safe_address(address)
        .map_err(|problem| Unsendable(format!("{field} {address:?}: {problem}")))?;
    let address = address
        .parse()
        .map_err(|e| Unsendable(format!("{field} {address:?}: {e}")))?;
    let name = safe_display_name(name);
    Ok(Mailbox::new((!name.is_empty()).then_some(name), address))
}

fn body(content_type: ContentType, text: &str) -> SinglePart {
    SinglePart::builder()
        .header(content_type)
        .header(ContentTransferEncoding::Base64)
        .body(normalize_body_crlf(text))
}

/// `<id>` for a Message-ID header, or `None` when `id` could break the header.
fn angle(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    (!id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>'))
    .then(|| format!("<{id}>"))
}

/// The mail for `reply` with `files`.
pub fn compose(reply: &TicketReplyRequested, files: Vec<File>) -> Result<Message, Unsendable> {
    let mut builder = Message::builder()
        .from(mailbox(&reply.from_name, &reply.from_address, "from")?)
        .subject(safe_subject(&reply.subject));
    if reply.to_addresses.is_empty() {
        return Err(Unsendable("the reply names no recipient".into()));
    }
    for to in &reply.to_addresses {
        builder = builder.to(mailbox("", to, "to")?);
    }
    for cc in &reply.cc_addresses {
        builder = builder.cc(mailbox("", cc, "cc")?);
    }
    builder = builder.message_id(angle(&reply.mail_message_id));
    if let Some(parent) = angle(&reply.in_reply_to) {
        builder = builder.in_reply_to(parent);
    }
    let references: Vec<String> = reply.references.iter().filter_map(|r| angle(r)).collect();
    if !references.is_empty() {
        builder = builder.references(references.join(" "));
    }
    if reply.kind == TicketMessageKind::Notification as i32 {
        builder = builder.header(AutoSubmitted);
    }
    let text = body(ContentType::TEXT_PLAIN, &reply.body_text);
    let content = if reply.body_html.is_empty() {
        MultiPart::mixed().singlepart(text)
    } else {
        MultiPart::mixed().multipart(
            MultiPart::alternative()
                .singlepart(text)
                .singlepart(body(ContentType::TEXT_HTML, &reply.body_html)),
        )
    };
    let content = files.into_iter().fold(content, |parts, file| {
        let kind = ContentType::parse(&file.content_type)
            .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
        parts.singlepart(Attachment::new(safe_display_name(&file.name)).body(file.content, kind))
    });
    builder
        .multipart(content)
        .map_err(|e| Unsendable(format!("the mail cannot be built: {e}")))
}

/// `Auto-Submitted: auto-replied` on automatic mail (notifications), so that auto-responders
/// do not answer it (RFC 3834).
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-replied".into())
    }
}

#[cfg(test)]
mod tests {
    use mail_parser::MimeHeaders;

    use super::*;

    fn reply() -> TicketReplyRequested {
        TicketReplyRequested {
            ticket_number: 1042,
            kind: TicketMessageKind::PublicReply as i32,
            from_address: "help@center.example".into(),
            from_name: "고객센터".into(),
            to_addresses: vec!["kim@example.com".into()],
            subject: "Re: 환불 문의 [#1042]".into(),
            body_text: "안녕하세요.\n환불되었습니다.\n.\nMAIL FROM:<x@evil>\n".into(),
            mail_message_id: "abc.1042@center.example".into(),
            in_reply_to: "first@example.com".into(),
            references: vec!["first@example.com".into(), "second@example.com".into()],
            ..Default::default()
        }
    }

    fn wire(message: &Message) -> String {
        String::from_utf8(message.formatted()).unwrap()
    }

    #[test]
    fn a_reply_is_threaded_and_its_body_never_reaches_the_wire_raw() {
        let mail = wire(&compose(&reply(), vec![]).unwrap());
        assert!(
            mail.contains("Message-ID: <abc.1042@center.example>\r\n"),
            "{mail}"
        );
        assert!(
            mail.contains("In-Reply-To: <first@example.com>\r\n"),
            "{mail}"
        );
        assert!(
            mail.contains("References: <first@example.com> <second@example.com>\r\n"),
            "{mail}"
        );
        assert!(!mail.contains("MAIL FROM"), "the body is encoded: {mail}");
        assert!(!mail.contains("\r\n.\r\n"), "{mail}");
        assert!(
            !mail.contains("Auto-Submitted"),
            "an agent's reply is not automatic"
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(mail.as_bytes())
            .unwrap();
        assert_eq!(parsed.subject(), Some("Re: 환불 문의 [#1042]"));
        assert_eq!(
            parsed.body_text(0).unwrap().replace("\r\n", "\n"),
            "안녕하세요.\n환불되었습니다.\n.\nMAIL FROM:<x@evil>\n"
        );
    }

    #[test]
    fn header_injection_never_reaches_the_wire() {
        let mut evil = reply();
        evil.subject = "환불\r\nBcc: evil@example.com".into();
        evil.from_name = "고객센터\nX-Evil: 1".into();
        let mail = wire(&compose(&evil, vec![]).unwrap());
        assert!(!mail.contains("\r\nBcc:"), "{mail}");
        assert!(!mail.contains("\nX-Evil"), "{mail}");
        let mut evil = reply();
        evil.to_addresses = vec!["kim@example.com\r\nRCPT TO:<x@evil>".into()];
        assert!(compose(&evil, vec![]).is_err());
        let mut evil = reply();
        evil.mail_message_id = "x>\r\nBcc: evil@example.com".into();
        let mail = wire(&compose(&evil, vec![]).unwrap());
        assert!(!mail.contains("Bcc"), "{mail}");
    }

    #[test]
    fn notifications_are_marked_automatic_and_files_attached() {
        let mut notice = reply();
        notice.kind = TicketMessageKind::Notification as i32;
        notice.body_html = "<p>환불되었습니다</p>".into();
        let files = vec![File {
            name: "영수증.pdf".into(),
            content_type: "application/pdf".into(),
            content: b"%PDF-1.4".to_vec(),
        }];
        let mail = wire(&compose(&notice, files).unwrap());
        assert!(mail.contains("Auto-Submitted: auto-replied\r\n"), "{mail}");
        let parsed = mail_parser::MessageParser::default()
            .parse(mail.as_bytes())
            .unwrap();
        assert_eq!(parsed.attachment_count(), 1);
        assert_eq!(
            parsed.attachment(0).unwrap().attachment_name(),
            Some("영수증.pdf")
        );
        assert!(parsed.body_html(0).unwrap().contains("환불되었습니다"));
    }
}
