//! The limits that send a mail to the quarantine instead of the decoder, and the check of a raw
//! mail against them. The check runs before mail-parser, which recurses into nested parts and
//! allocates for each: a MIME bomb must be refused from its bytes alone (see `scan`).

use super::scan;

/// The limits of one mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_parts: usize,
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 30 * 1024 * 1024,
            max_depth: 32,
            max_parts: 1_000,
            max_header_bytes: 512 * 1024,
        }
    }
}

/// The limit a mail is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverLimit {
    Size { bytes: usize, max: usize },
    Depth { max: usize },
    Parts { max: usize },
    HeaderBytes { max: usize },
}

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Size { bytes, max } => write!(f, "{bytes} bytes, over the limit of {max}"),
            Self::Depth { max } => write!(f, "MIME parts nested deeper than {max}"),
            Self::Parts { max } => write!(f, "more than {max} MIME parts"),
            Self::HeaderBytes { max } => write!(f, "a header block over {max} bytes"),
        }
    }
}

/// Checks `raw` against `limits` without parsing it into memory: its size first (nothing else
/// is read of a mail over it), then one linear pass over its MIME structure. Depth counts the
/// nested levels below the top message (a multipart, a `message/rfc822`); parts count every
/// header block (the top message, each multipart, each part, each nested message), as
/// mail-parser makes one part of each.
pub fn check(raw: &[u8], limits: &Limits) -> Result<(), OverLimit> {
    if raw.len() > limits.max_bytes {
        return Err(OverLimit::Size {
            bytes: raw.len(),
            max: limits.max_bytes,
        });
    }
    scan::scan(raw, limits).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> Result<(), OverLimit> {
        check(raw.as_bytes(), &Limits::default())
    }

    fn with(raw: &str, parts: usize, depth: usize) -> Result<(), OverLimit> {
        let limits = Limits {
            max_parts: parts,
            max_depth: depth,
            ..Limits::default()
        };
        check(raw.as_bytes(), &limits)
    }

    const PLAIN: &str = "From: Kim <kim@example.com>\r\nTo: help@example.com\r\n\
        Subject: =?UTF-8?B?7JWI64WV?=\r\n\r\nHello\r\n--not a boundary--\r\n";

    const ALTERNATIVE: &str = "From: a@example.com\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
        preamble\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n\
        --alt\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--alt--\r\nepilogue\r\n";

    // Bare LF line ends, folded Content-Type, an odd quoted boundary and a base64 file.
    const MIXED: &str = "From: a@example.com\n\
        Content-Type: multipart/mixed;\n\tboundary=\"----=_Part_7 'x'(y)+_,-./:=?\"\n\n\
        ------=_Part_7 'x'(y)+_,-./:=?\n\
        Content-Type: multipart/alternative; boundary=inner\n\n\
        --inner\nContent-Type: text/plain\n\nhi\n--inner\nContent-Type: text/html\n\n<b>hi</b>\n\
        --inner--\n\n\
        ------=_Part_7 'x'(y)+_,-./:=?\n\
        Content-Type: application/pdf; name=\"a.pdf\"\nContent-Transfer-Encoding: base64\n\
        Content-Disposition: attachment; filename=\"a.pdf\"\n\nJVBERi0xLjQK\n\
        ------=_Part_7 'x'(y)+_,-./:=?--\n";

    const NESTED_RFC822: &str = "From: a@example.com\r\n\
        Content-Type: multipart/mixed; boundary=outer\r\n\r\n\
        --outer\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
        --outer\r\nContent-Type: message/rfc822\r\n\r\n\
        From: b@example.com\r\nSubject: original\r\n\
        Content-Type: multipart/alternative; boundary=in\r\n\r\n\
        --in\r\nContent-Type: text/plain\r\n\r\norig\r\n--in--\r\n\
        --outer--\r\n";

    #[test]
    fn ordinary_mails_pass() {
        assert_eq!(ok(PLAIN), Ok(()));
        assert_eq!(ok(ALTERNATIVE), Ok(()));
        assert_eq!(ok(MIXED), Ok(()));
        assert_eq!(ok(NESTED_RFC822), Ok(()));
        assert_eq!(ok(&PLAIN.replace("\r\n", "\n")), Ok(()));
        assert_eq!(ok(""), Ok(()));
    }

    #[test]
    fn parts_are_counted_as_mail_parser_builds_them() {
        // Root + 2 parts.
        assert_eq!(with(ALTERNATIVE, 3, 1), Ok(()));
        assert_eq!(with(ALTERNATIVE, 2, 1), Err(OverLimit::Parts { max: 2 }));
        // Root, inner multipart, its 2 parts, the file.
        assert_eq!(with(MIXED, 5, 2), Ok(()));
        assert_eq!(with(MIXED, 4, 2), Err(OverLimit::Parts { max: 4 }));
        assert_eq!(with(MIXED, 5, 1), Err(OverLimit::Depth { max: 1 }));
    }

    #[test]
    fn a_nested_message_is_a_level() {
        // outer (1) > message/rfc822 (2) > its multipart (3).
        assert_eq!(with(NESTED_RFC822, 100, 3), Ok(()));
        assert_eq!(
            with(NESTED_RFC822, 100, 2),
            Err(OverLimit::Depth { max: 2 })
        );
        // Root, text, the message, its part.
        assert_eq!(with(NESTED_RFC822, 5, 3), Ok(()));
        assert_eq!(with(NESTED_RFC822, 4, 3), Err(OverLimit::Parts { max: 4 }));
    }

    #[test]
    fn parts_without_type_in_a_digest_are_messages() {
        let digest = "Content-Type: multipart/digest; boundary=d\r\n\r\n\
            --d\r\n\r\nFrom: x@example.com\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n\
            --m\r\n\r\nbody\r\n--m--\r\n--d--\r\n";
        // digest (1) > message (2) > multipart (3)
        assert_eq!(with(digest, 100, 3), Ok(()));
        assert_eq!(with(digest, 100, 2), Err(OverLimit::Depth { max: 2 }));
    }

    fn nested_multiparts(levels: usize) -> String {
        let mut raw = String::from("From: bomb@example.com\r\n");
        for i in 0..levels {
            raw.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
            ));
        }
        raw.push_str("Content-Type: text/plain\r\n\r\nx\r\n");
        for i in (0..levels).rev() {
            raw.push_str(&format!("--b{i}--\r\n"));
        }
        raw
    }

    #[test]
    fn a_thousand_nested_multiparts_are_too_deep() {
        assert_eq!(
            ok(&nested_multiparts(1_000)),
            Err(OverLimit::Depth { max: 32 })
        );
        assert_eq!(ok(&nested_multiparts(32)), Ok(()));
        assert_eq!(
            ok(&nested_multiparts(33)),
            Err(OverLimit::Depth { max: 32 })
        );
    }

    fn many_parts(parts: usize) -> Vec<u8> {
        let mut raw = Vec::with_capacity(parts * 40 + 100);
        raw.extend_from_slice(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n");
        for _ in 0..parts {
            raw.extend_from_slice(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n");
        }
        raw.extend_from_slice(b"--b--\r\n");
        raw
    }

    #[test]
    fn fifty_thousand_parts_are_too_many() {
        let limits = Limits::default();
        assert_eq!(
            check(&many_parts(50_000), &limits),
            Err(OverLimit::Parts { max: 1_000 })
        );
        assert_eq!(check(&many_parts(999), &limits), Ok(()));
        assert_eq!(
            check(&many_parts(1_000), &limits),
            Err(OverLimit::Parts { max: 1_000 })
        );
    }

    #[test]
    fn parts_after_an_inner_multipart_without_delimiter_still_count() {
        // mail-parser reads the inner multipart as text and goes on with the outer parts.
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Type: multipart/mixed; boundary=never\r\n\r\nx\r\n"
            .to_vec();
        let prefix = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n";
        raw.extend_from_slice(&many_parts(2_000)[prefix.len()..]);
        assert_eq!(
            check(&raw, &Limits::default()),
            Err(OverLimit::Parts { max: 1_000 })
        );
    }

    #[test]
    fn many_multiparts_without_their_boundary_are_refused() {
        // Each one makes the scan (and mail-parser) read the rest of the mail again.
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for i in 0..500 {
            raw.extend_from_slice(b"--b\r\nContent-Type: multipart/mixed; boundary=z");
            raw.extend_from_slice(i.to_string().as_bytes());
            raw.extend_from_slice(b"\r\n\r\nx\r\n");
        }
        raw.extend_from_slice(b"--b\r\n\r\n");
        raw.resize(raw.len() + 4 * 1024 * 1024, b'x');
        assert_eq!(
            check(&raw, &Limits::default()),
            Err(OverLimit::Parts { max: 1_000 })
        );
        // One or two such parts are an ordinary broken mail.
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Type: multipart/mixed; boundary=z\r\n\r\nx\r\n--b\r\n\
            Content-Type: multipart/mixed; boundary=y\r\n\r\nx\r\n--b--\r\n";
        assert_eq!(check(raw, &Limits::default()), Ok(()));
    }

    #[test]
    fn the_first_delimiter_opens_a_part_even_if_it_looks_closing() {
        // mail-parser opens a part at `--b--` here, then reads the parts that follow.
        let mut raw =
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n\r\nx\r\n".to_vec();
        for _ in 0..2_000 {
            raw.extend_from_slice(b"--b\r\n\r\nx\r\n");
        }
        assert_eq!(
            check(&raw, &Limits::default()),
            Err(OverLimit::Parts { max: 1_000 })
        );
    }

    fn base64(bytes: &[u8]) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::with_capacity(bytes.len() / 3 * 4 + bytes.len() / 57 * 2 + 8);
        for (n, chunk) in bytes.chunks(3).enumerate() {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for k in 0..4 {
                if k <= chunk.len() {
                    out.push(ALPHABET[((v >> (18 - 6 * k)) & 63) as usize]);
                } else {
                    out.push(b'=');
                }
            }
            if n % 19 == 18 {
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }

    #[test]
    fn parts_inside_an_encoded_message_count() {
        let mut inner = b"From: x@example.com\r\n".to_vec();
        inner.extend_from_slice(&many_parts(2_000));
        let mut raw = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\
            Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            .to_vec();
        raw.extend_from_slice(&base64(&inner));
        raw.extend_from_slice(b"\r\n--o--\r\n");
        assert_eq!(
            check(&raw, &Limits::default()),
            Err(OverLimit::Parts { max: 1_000 })
        );

        let small = base64(b"From: x@example.com\r\nSubject: fine\r\n\r\nhello\r\n");
        let mut raw =
            b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
        raw.extend_from_slice(&small);
        assert_eq!(check(&raw, &Limits::default()), Ok(()));
    }

    #[test]
    fn a_hundred_mebibytes_are_too_big() {
        let size = 100 * 1024 * 1024;
        let line = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n";
        let mut raw = Vec::with_capacity(size + line.len());
        raw.extend_from_slice(b"Subject: big\r\n\r\n");
        while raw.len() < size {
            raw.extend_from_slice(line);
        }
        let bytes = raw.len();
        assert_eq!(
            check(&raw, &Limits::default()),
            Err(OverLimit::Size {
                bytes,
                max: 30 * 1024 * 1024
            })
        );
    }

    fn huge_header(bytes: usize) -> Vec<u8> {
        let mut raw = Vec::with_capacity(bytes + 200);
        raw.extend_from_slice(b"From: a@example.com\r\nX-Padding: x");
        while raw.len() < bytes {
            raw.extend_from_slice(
                b"\r\n aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            );
        }
        raw.extend_from_slice(b"\r\n\r\nbody\r\n");
        raw
    }

    #[test]
    fn a_mebibyte_of_header_is_too_much() {
        let limits = Limits::default();
        assert_eq!(
            check(&huge_header(1024 * 1024), &limits),
            Err(OverLimit::HeaderBytes { max: 512 * 1024 })
        );
        assert_eq!(check(&huge_header(400 * 1024), &limits), Ok(()));
        // One line without any line end.
        let mut one_line = b"X-Long: ".to_vec();
        one_line.resize(1024 * 1024, b'a');
        assert_eq!(
            check(&one_line, &limits),
            Err(OverLimit::HeaderBytes { max: 512 * 1024 })
        );
    }

    #[test]
    fn a_part_header_is_limited_too() {
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n".to_vec();
        raw.extend_from_slice(&huge_header(1024 * 1024));
        raw.extend_from_slice(b"--b--\r\n");
        assert_eq!(
            check(&raw, &Limits::default()),
            Err(OverLimit::HeaderBytes { max: 512 * 1024 })
        );
    }

    #[test]
    fn a_crafted_body_of_dashes_is_scanned_linearly() {
        // A 999-dash boundary over 20 MB of dashes: quadratic for a naive search. Asserts only
        // the result; the test's run time is the measure.
        let boundary = "-".repeat(999);
        let mut raw = Vec::with_capacity(21 * 1024 * 1024);
        raw.extend_from_slice(b"Content-Type: multipart/mixed; boundary=\"");
        raw.extend_from_slice(boundary.as_bytes());
        raw.extend_from_slice(b"x\"\r\n\r\n");
        raw.resize(20 * 1024 * 1024, b'-');
        assert_eq!(check(&raw, &Limits::default()), Ok(()));
    }
    fn mail_parser_parts(message: &mail_parser::Message<'_>) -> usize {
        message
            .parts
            .iter()
            .map(|part| match &part.body {
                mail_parser::PartType::Message(nested) => 1 + mail_parser_parts(nested),
                _ => 1,
            })
            .sum()
    }

    fn assert_counts_as_mail_parser(raw: &[u8]) {
        let message = mail_parser::MessageParser::default().parse(raw).unwrap();
        let limits = Limits {
            max_depth: 1_000,
            max_parts: 100_000,
            ..Limits::default()
        };
        assert_eq!(
            scan::scan(raw, &limits),
            Ok(mail_parser_parts(&message)),
            "{}",
            String::from_utf8_lossy(raw)
        );
    }

    #[test]
    fn counts_match_mail_parser() {
        for raw in [PLAIN, ALTERNATIVE, MIXED, NESTED_RFC822] {
            assert_counts_as_mail_parser(raw.as_bytes());
            assert_counts_as_mail_parser(raw.replace("\r\n", "\n").as_bytes());
        }
        assert_counts_as_mail_parser(nested_multiparts(10).as_bytes());
        assert_counts_as_mail_parser(&many_parts(50));
        let digest = "Content-Type: multipart/digest; boundary=d\r\n\r\n\
            --d\r\n\r\nFrom: x@example.com\r\n\r\nbody\r\n\
            --d\r\nContent-Type: text/plain\r\n\r\nplain\r\n--d--\r\n";
        assert_counts_as_mail_parser(digest.as_bytes());
        let mut encoded = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\
            Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            .to_vec();
        let mut inner = b"From: x@example.com\r\n".to_vec();
        inner.extend_from_slice(&many_parts(5));
        encoded.extend_from_slice(&base64(&inner));
        encoded.extend_from_slice(b"\r\n--o\r\nContent-Type: text/plain\r\n\r\nx\r\n--o--\r\n");
        assert_counts_as_mail_parser(&encoded);
    }

    #[test]
    fn header_tricks_are_read_as_mail_parser_reads_them() {
        // A line of spaces after a line that is no field ends the header.
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for _ in 0..10 {
            raw.extend_from_slice(b"--b\r\njunk\r\n \r\nbody\r\n");
        }
        raw.extend_from_slice(b"--b--\r\n");
        assert_counts_as_mail_parser(&raw);
        // The last Content-Type counts; whitespace inside a name is dropped; a field may
        // start after spaces.
        for header in [
            "Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary=b\r\n",
            "Content- Type: multipart/mixed; boundary=b\r\n",
            "junk\r\n Content-Type: multipart/mixed; boundary=b\r\n",
            "Content-Type: multipart/mixed;\r\n \r\n boundary=b\r\n",
        ] {
            let raw = format!("{header}\r\n--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--\r\n");
            assert_counts_as_mail_parser(raw.as_bytes());
        }
    }
}
