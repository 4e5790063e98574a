//! Which of our messages a bounce is about, so that the reply that failed is marked
//! undelivered on its ticket. Meant for mails `automation` classed as DeliveryStatus: on any
//! other mail it returns what it finds just the same (a person's reply has an In-Reply-To too).
//!
//! Where the original's Message-ID is looked for, most reliable first:
//! 1. a `message/rfc822` (or `message/global`) part: the returned original (Exchange, and
//!    Postfix when it returns the whole message);
//! 2. a `text/rfc822-headers` (or `message/global-headers`) part: its header only (Postfix,
//!    Sendmail, most DSNs);
//! 3. the bounce's own `In-Reply-To`, then the last of its `References` (Exchange and some
//!    portals set them on their reports);
//! 4. a `Message-ID:` line quoted in a text part (Gmail's and qmail's plain-text bounces, with
//!    `X-Failed-Recipients`).

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::fields;

/// For a bounce: the Message-ID (without angle brackets) of the message that could not be
/// delivered, as the report quotes it.
pub fn bounced_message_id(message: &Message<'_>) -> Option<String> {
    let parts = || message.parts.iter();
    parts()
        .filter(|p| is_type(p, "message", &["rfc822", "global"]))
        .find_map(|p| returned_message_id(message, p))
        .or_else(|| {
            parts()
                .filter(|p| {
                    is_type(p, "text", &["rfc822-headers"])
                        || is_type(p, "message", &["global-headers"])
                })
                .find_map(|p| p.text_contents().and_then(quoted_header_id))
        })
        .or_else(|| {
            message
                .in_reply_to()
                .as_text_list()?
                .first()
                .and_then(|id| fields::message_id(id))
        })
        .or_else(|| {
            message
                .references()
                .as_text_list()?
                .last()
                .and_then(|id| fields::message_id(id))
        })
        .or_else(|| {
            parts()
                .filter(|p| matches!(p.body, PartType::Text(_)))
                .find_map(|p| p.text_contents().and_then(quoted_line_id))
        })
}

fn is_type(part: &MessagePart<'_>, main: &str, subs: &[&str]) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(main)
            && ct
                .subtype()
                .is_some_and(|s| subs.iter().any(|sub| s.eq_ignore_ascii_case(sub)))
    })
}

/// The Message-ID of a returned message: as mail-parser parsed it, or from the part's raw
/// text when mail-parser could not make a message of it.
fn returned_message_id(message: &Message<'_>, part: &MessagePart<'_>) -> Option<String> {
    if let PartType::Message(nested) = &part.body
        && let Some(id) = nested.message_id()
    {
        return fields::message_id(id).or_else(|| Some(id.to_string()));
    }
    let raw = message
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)?;
    quoted_header_id(&String::from_utf8_lossy(raw))
}

/// The Message-ID field of a quoted header block.
fn quoted_header_id(block: &str) -> Option<String> {
    fields::header_fields(block)
        .into_iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Message-ID"))
        .find_map(|(_, value)| fields::message_id(&value))
}

/// The first `Message-ID:` line quoted anywhere in a text (indented or `>`-quoted; the value
/// may be on the next line).
fn quoted_line_id(text: &str) -> Option<String> {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start_matches(|c: char| c.is_whitespace() || c == '>');
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim_end().eq_ignore_ascii_case("Message-ID") {
            continue;
        }
        let value = if value.trim().is_empty() {
            lines.next().unwrap_or_default()
        } else {
            value
        };
        if let Some(id) = fields::message_id(value) {
            return Some(id);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn bounced(raw: &str) -> Option<String> {
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        bounced_message_id(&message)
    }

    const POSTFIX: &str = "Return-Path: <>\r\n\
        From: MAILER-DAEMON@mx.switchboard.example (Mail Delivery System)\r\n\
        Subject: Undelivered Mail Returned to Sender\r\n\
        To: support@switchboard.example\r\n\
        Message-Id: <20261202064012.3F1A2C0@mx.switchboard.example>\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/report; report-type=delivery-status;\r\n\
        \tboundary=\"3F1A2C0.1764657612/mx.switchboard.example\"\r\n\
        \r\n\
        This is a MIME-encapsulated message.\r\n\
        \r\n\
        --3F1A2C0.1764657612/mx.switchboard.example\r\n\
        Content-Description: Notification\r\n\
        Content-Type: text/plain; charset=us-ascii\r\n\
        \r\n\
        This is the mail system at host mx.switchboard.example.\r\n\
        \r\n\
        <nobody@customer.example>: host mx.customer.example said: 550 5.1.1 unknown user\r\n\
        \r\n\
        --3F1A2C0.1764657612/mx.switchboard.example\r\n\
        Content-Description: Delivery report\r\n\
        Content-Type: message/delivery-status\r\n\
        \r\n\
        Reporting-MTA: dns; mx.switchboard.example\r\n\
        \r\n\
        Final-Recipient: rfc822; nobody@customer.example\r\n\
        Action: failed\r\n\
        Status: 5.1.1\r\n\
        \r\n\
        --3F1A2C0.1764657612/mx.switchboard.example\r\n\
        Content-Description: Undelivered Message Headers\r\n\
        Content-Type: text/rfc822-headers\r\n\
        \r\n\
        Received: by mx.switchboard.example (Postfix) id 3F1A2C0\r\n\
        From: Support <support@switchboard.example>\r\n\
        To: nobody@customer.example\r\n\
        Subject: Re: [#1042] 환불 문의\r\n\
        Message-ID:\r\n\
        \x20<reply-1042-7@switchboard.example>\r\n\
        \r\n\
        --3F1A2C0.1764657612/mx.switchboard.example--\r\n";

    const EXCHANGE: &str = "From: Microsoft Outlook <postmaster@customer.example>\r\n\
        To: <support@switchboard.example>\r\n\
        Subject: Undeliverable: Re: [#77] 배송 문의\r\n\
        Message-ID: <b1c2@customer.example>\r\n\
        Content-Type: multipart/report; report-type=delivery-status;\r\n\
        \tboundary=\"_000_b1c2_\"\r\n\
        MIME-Version: 1.0\r\n\
        X-MS-Exchange-Message-Is-Ndr:\r\n\
        \r\n\
        --_000_b1c2_\r\n\
        Content-Type: multipart/alternative; boundary=\"_002_b1c2_\"\r\n\
        \r\n\
        --_002_b1c2_\r\n\
        Content-Type: text/plain; charset=\"us-ascii\"\r\n\
        \r\n\
        Delivery has failed to these recipients or groups:\r\n\
        \r\n\
        --_002_b1c2_\r\n\
        Content-Type: text/html; charset=\"us-ascii\"\r\n\
        \r\n\
        <html><body>Delivery has failed</body></html>\r\n\
        --_002_b1c2_--\r\n\
        \r\n\
        --_000_b1c2_\r\n\
        Content-Type: message/delivery-status\r\n\
        \r\n\
        Reporting-MTA: dns;EX01.customer.example\r\n\
        \r\n\
        Final-Recipient: rfc822;lee@customer.example\r\n\
        Action: failed\r\n\
        Status: 5.1.10\r\n\
        \r\n\
        --_000_b1c2_\r\n\
        Content-Type: message/rfc822\r\n\
        \r\n\
        From: Support <support@switchboard.example>\r\n\
        To: <lee@customer.example>\r\n\
        Subject: Re: [#77] 배송 문의\r\n\
        Message-ID: <reply-77-2@switchboard.example>\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\
        \r\n\
        안녕하세요.\r\n\
        \r\n\
        --_000_b1c2_--\r\n";

    const GMAIL: &str = "Return-Path: <>\r\n\
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n\
        To: support@switchboard.example\r\n\
        X-Failed-Recipients: park@gmail.com\r\n\
        Subject: Delivery Status Notification (Failure)\r\n\
        Message-ID: <000000000000abcd@google.com>\r\n\
        Content-Type: text/plain; charset=UTF-8\r\n\
        \r\n\
        Delivery to the following recipient failed permanently:\r\n\
        \r\n\
        \x20    park@gmail.com\r\n\
        \r\n\
        ----- Original message -----\r\n\
        \r\n\
        DKIM-Signature: v=1; a=rsa-sha256; d=switchboard.example\r\n\
        From: Support <support@switchboard.example>\r\n\
        To: park@gmail.com\r\n\
        Subject: Re: [#5] 문의\r\n\
        Message-Id: <reply-5-1@switchboard.example>\r\n\
        \r\n\
        안녕하세요.\r\n";

    #[test]
    fn the_bounces_pass_the_limits() {
        for raw in [POSTFIX, EXCHANGE, GMAIL] {
            assert_eq!(
                super::super::check(raw.as_bytes(), &Default::default()),
                Ok(())
            );
        }
    }

    #[test]
    fn a_postfix_dsn_quotes_the_header() {
        assert_eq!(
            bounced(POSTFIX).as_deref(),
            Some("reply-1042-7@switchboard.example")
        );
    }

    #[test]
    fn an_exchange_ndr_returns_the_message() {
        assert_eq!(
            bounced(EXCHANGE).as_deref(),
            Some("reply-77-2@switchboard.example")
        );
    }

    #[test]
    fn a_gmail_text_bounce_quotes_it_in_the_text() {
        assert_eq!(
            bounced(GMAIL).as_deref(),
            Some("reply-5-1@switchboard.example")
        );
    }

    #[test]
    fn in_reply_to_and_references_of_the_bounce() {
        let raw = "From: postmaster@portal.example\r\nSubject: failed\r\n\
            References: <older@switchboard.example>\r\n <reply-9@switchboard.example>\r\n\r\nfailed\r\n";
        assert_eq!(bounced(raw).as_deref(), Some("reply-9@switchboard.example"));
        let raw = "From: postmaster@portal.example\r\nSubject: failed\r\n\
            In-Reply-To: <reply-3@switchboard.example>\r\n\
            References: <reply-2@switchboard.example>\r\n\r\nMessage-ID: <no@x>\r\n";
        assert_eq!(bounced(raw).as_deref(), Some("reply-3@switchboard.example"));
    }

    #[test]
    fn a_quoted_message_beats_in_reply_to() {
        let raw = EXCHANGE.replace(
            "MIME-Version: 1.0\r\n",
            "MIME-Version: 1.0\r\nIn-Reply-To: <other@x.example>\r\n",
        );
        assert_eq!(
            bounced(&raw).as_deref(),
            Some("reply-77-2@switchboard.example")
        );
    }

    #[test]
    fn nothing_quoted() {
        let raw = "From: MAILER-DAEMON@mx.example\r\nMessage-ID: <own@mx.example>\r\n\
            Subject: failed\r\n\r\nSorry, it failed.\r\n";
        assert_eq!(bounced(raw), None);
    }
}
