//! Whether a mail was written by a person or sent by a machine. It decides whether we may
//! answer it automatically (never an auto-reply to an auto-reply: mail loops) and what the
//! ticket shows. Only headers decide, by the rules below; when several apply the strongest wins:
//! DeliveryStatus > AutoReply > Bulk > Human.
//!
//! - DeliveryStatus: the null envelope sender (`MAIL FROM:<>`, also when given as an empty or
//!   `<>` address), `Return-Path: <>`, a
//!   `multipart/report` of any report-type (delivery-status, and also disposition-notification:
//!   a read receipt is no message from a person either), or a From, Sender, Return-Path or
//!   envelope sender whose local part is `MAILER-DAEMON` or `postmaster`.
//! - AutoReply: `Auto-Submitted` other than `no` (RFC 3834), `X-Autoreply`, `X-Autorespond`,
//!   `Precedence: auto_reply`, or `X-Auto-Response-Suppress` naming `All`, `OOF` or `AutoReply`
//!   (Exchange sets it on its automatic replies; a value naming only receipts, `DR`, `NDR`,
//!   `RN`, `NRN`, is what some clients put on ordinary mail, and does not count).
//! - Bulk: `Precedence: bulk`, `junk` or `list`, `List-Id`, `List-Unsubscribe`.
//!
//! Decided against, on purpose:
//! - Subjects ("Out of Office", "자동 회신", "부재중"): customers write them too ("부재중
//!   전화 문의", "Out of office reply not working"), and a mail misread as automated gets no
//!   acknowledgement; every common responder (Exchange, Gmail, vacation(1), the Korean portals'
//!   responders we know of) sets one of the headers above, which already decides.
//! - `Feedback-ID` (and ESP marks like `X-Mailchimp-*`): the sending service puts it on
//!   transactional mail as well, including replies a person typed in another help desk; real
//!   bulk mail carries `List-Unsubscribe` (required of bulk senders by the big mailbox providers).

use mail_parser::{Message, MimeHeaders};
use switchboard_proto::ticket::v1::MessageAutomation;

use super::EnvelopeSender;
use super::fields;

/// Local parts of the addresses that MTAs send reports from.
const REPORTING_LOCAL_PARTS: [&str; 2] = ["mailer-daemon", "postmaster"];

/// Whether `message` was written by a person or sent automatically.
pub fn automation(message: &Message<'_>, sender: &EnvelopeSender) -> MessageAutomation {
    if is_delivery_status(message, sender) {
        MessageAutomation::DeliveryStatus
    } else if is_auto_reply(message) {
        MessageAutomation::AutoReply
    } else if is_bulk(message) {
        MessageAutomation::Bulk
    } else {
        MessageAutomation::Human
    }
}

fn is_reporting_address(address: &str) -> bool {
    let local = fields::local_part(address);
    REPORTING_LOCAL_PARTS
        .iter()
        .any(|r| local.eq_ignore_ascii_case(r))
}

fn is_delivery_status(message: &Message<'_>, sender: &EnvelopeSender) -> bool {
    match sender {
        EnvelopeSender::Null => return true,
        // An MTA that passes the null sender as text (Postfix's `${sender}` is empty for it).
        EnvelopeSender::Address(address)
            if matches!(address.trim(), "" | "<>") || is_reporting_address(address) =>
        {
            return true;
        }
        _ => {}
    }
    let return_paths = fields::values(message, "Return-Path");
    if return_paths
        .iter()
        .any(|v| v.replace(char::is_whitespace, "") == "<>" || is_reporting_address(v))
    {
        return true;
    }
    if message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        return true;
    }
    // From and Sender as mail-parser reads them (display names, encoded words, groups).
    [message.from(), message.sender()]
        .into_iter()
        .flatten()
        .flat_map(|list| list.iter())
        .filter_map(|addr| addr.address())
        .any(is_reporting_address)
        // A bare `From: MAILER-DAEMON` has no address mail-parser accepts.
        || fields::values(message, "From")
            .iter()
            .chain(fields::values(message, "Sender").iter())
            .any(|v| is_reporting_address(v))
}

/// The first token of a value: `auto-replied` of `auto-replied; owner-email="x@y"`.
fn keyword(value: &str) -> &str {
    value.split(';').next().unwrap_or_default().trim()
}

fn is_auto_reply(message: &Message<'_>) -> bool {
    let says_yes = |name: &str| {
        fields::values(message, name).iter().any(|v| {
            let v = keyword(v);
            !v.is_empty() && !v.eq_ignore_ascii_case("no")
        })
    };
    let auto_submitted = says_yes("Auto-Submitted");
    // These two say "automatic" by being there; their values vary (yes, true, the app's name).
    let x_headers = fields::has(message, "X-Autoreply") || fields::has(message, "X-Autorespond");
    let suppress = fields::values(message, "X-Auto-Response-Suppress")
        .iter()
        .any(|v| {
            v.split([',', ' ', '\t']).any(|token| {
                ["all", "oof", "autoreply"]
                    .iter()
                    .any(|t| token.eq_ignore_ascii_case(t))
            })
        });
    let precedence = fields::values(message, "Precedence")
        .iter()
        .any(|v| keyword(v).eq_ignore_ascii_case("auto_reply"));
    auto_submitted || x_headers || suppress || precedence
}

fn is_bulk(message: &Message<'_>) -> bool {
    let precedence = fields::values(message, "Precedence").iter().any(|v| {
        ["bulk", "junk", "list"]
            .iter()
            .any(|p| keyword(v).eq_ignore_ascii_case(p))
    });
    precedence || fields::has(message, "List-Id") || fields::has(message, "List-Unsubscribe")
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageAutomation::*;
    use mail_parser::MessageParser;

    fn classify_as(raw: &str, sender: &EnvelopeSender) -> MessageAutomation {
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        automation(&message, sender)
    }

    fn classify(headers: &str) -> MessageAutomation {
        let raw = format!(
            "From: Kim <kim@example.com>\r\nTo: help@example.com\r\nSubject: hi\r\n{headers}\r\nbody\r\n"
        );
        classify_as(&raw, &EnvelopeSender::Absent)
    }

    #[test]
    fn a_person_writing() {
        assert_eq!(classify(""), Human);
        assert_eq!(classify("Auto-Submitted: no\r\n"), Human);
        assert_eq!(classify("auto-submitted:  No (a person)\r\n"), Human);
        assert_eq!(classify("X-Auto-Response-Suppress: DR, RN\r\n"), Human);
        assert_eq!(classify("Feedback-ID: 1:2:3:ses\r\n"), Human);
        assert_eq!(classify("Precedence: first-class\r\n"), Human);
    }

    #[test]
    fn subjects_alone_do_not_make_an_auto_reply() {
        let raw = "From: kim@example.com\r\nSubject: 자동 회신: 부재중 Out of Office\r\n\r\nx\r\n";
        assert_eq!(classify_as(raw, &EnvelopeSender::Absent), Human);
        let raw = "From: kim@example.com\r\nSubject: Out of Office\r\n\
            Auto-Submitted: auto-replied\r\n\r\nx\r\n";
        assert_eq!(classify_as(raw, &EnvelopeSender::Absent), AutoReply);
    }

    #[test]
    fn auto_replies() {
        assert_eq!(classify("Auto-Submitted: auto-replied\r\n"), AutoReply);
        assert_eq!(
            classify("AUTO-SUBMITTED: Auto-Generated (vacation)\r\n"),
            AutoReply
        );
        assert_eq!(
            classify("Auto-Submitted: auto-replied;\r\n owner-email=\"a@b\"\r\n"),
            AutoReply
        );
        assert_eq!(classify("X-Autoreply: yes\r\n"), AutoReply);
        assert_eq!(classify("x-autorespond: Naver\r\n"), AutoReply);
        assert_eq!(classify("X-Auto-Response-Suppress: All\r\n"), AutoReply);
        assert_eq!(classify("X-Auto-Response-Suppress: DR, OOF\r\n"), AutoReply);
        assert_eq!(
            classify("X-Auto-Response-Suppress: autoreply\r\n"),
            AutoReply
        );
        assert_eq!(classify("Precedence: auto_reply\r\n"), AutoReply);
    }

    #[test]
    fn bulk() {
        assert_eq!(classify("Precedence: bulk\r\n"), Bulk);
        assert_eq!(classify("Precedence:  LIST \r\n"), Bulk);
        assert_eq!(classify("precedence: junk (spam)\r\n"), Bulk);
        assert_eq!(classify("List-Id: News <news.example.com>\r\n"), Bulk);
        assert_eq!(
            classify("List-Unsubscribe: <mailto:u@example.com>, <https://example.com/u>\r\n"),
            Bulk
        );
    }

    #[test]
    fn delivery_status() {
        let plain = "From: kim@example.com\r\nSubject: x\r\n\r\nbody\r\n";
        assert_eq!(classify_as(plain, &EnvelopeSender::Null), DeliveryStatus);
        assert_eq!(
            classify_as(
                plain,
                &EnvelopeSender::Address("MAILER-DAEMON@mx.example".into())
            ),
            DeliveryStatus
        );
        assert_eq!(
            classify_as(plain, &EnvelopeSender::Address("kim@example.com".into())),
            Human
        );
        for null in ["", "<>", " <> "] {
            assert_eq!(
                classify_as(plain, &EnvelopeSender::Address(null.into())),
                DeliveryStatus
            );
        }
        assert_eq!(classify("Return-Path: <>\r\n"), DeliveryStatus);
        assert_eq!(classify("Return-Path: < >\r\n"), DeliveryStatus);
        assert_eq!(
            classify("Return-Path: <Postmaster@example.com>\r\n"),
            DeliveryStatus
        );
        assert_eq!(
            classify("Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n"),
            DeliveryStatus
        );
        assert_eq!(
            classify(
                "Content-Type: Multipart/Report; report-type=disposition-notification;\r\n boundary=b\r\n"
            ),
            DeliveryStatus
        );
        for from in [
            "Mail Delivery System <MAILER-DAEMON@mx.example.com>",
            "mailer-daemon@googlemail.com",
            "MAILER-DAEMON",
            "\"Postmaster\" <POSTMASTER@example.com> (bounces)",
        ] {
            let raw = format!("From: {from}\r\nSubject: Undelivered\r\n\r\nx\r\n");
            assert_eq!(
                classify_as(&raw, &EnvelopeSender::Absent),
                DeliveryStatus,
                "{from}"
            );
        }
        let raw = "From: kim@example.com\r\nSender: postmaster@example.com\r\n\r\nx\r\n";
        assert_eq!(classify_as(raw, &EnvelopeSender::Absent), DeliveryStatus);
    }

    #[test]
    fn the_strongest_wins() {
        assert_eq!(
            classify("Auto-Submitted: auto-replied\r\nList-Id: <l.example.com>\r\n"),
            AutoReply
        );
        assert_eq!(
            classify("Auto-Submitted: auto-replied\r\nReturn-Path: <>\r\nPrecedence: bulk\r\n"),
            DeliveryStatus
        );
        let raw = "From: kim@example.com\r\nPrecedence: bulk\r\nX-Autoreply: yes\r\n\r\nx\r\n";
        assert_eq!(classify_as(raw, &EnvelopeSender::Null), DeliveryStatus);
        assert_eq!(classify_as(raw, &EnvelopeSender::Absent), AutoReply);
    }
}
