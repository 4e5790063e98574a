//! Whole mails, generated here (bytes from encoding_rs, then base64 or quoted-printable),
//! through `parse` and `decode`.

use super::encoded_words::tests::{b_word, b64, q_word};
use super::{Attachment, Mailbox, decode, parse};
use encoding_rs::EUC_KR;

const KOREAN_LABELS: &[&str] = &[
    "euc-kr",
    "ks_c_5601-1987",
    "cp949",
    "windows-949",
    "uhc",
    "x-windows-949",
    "ksc5601",
    "x-uhc",
];

fn euc_kr(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = EUC_KR.encode(text);
    assert!(!unmappable, "{text}");
    bytes.into_owned()
}

/// Base64 in lines of 76 characters.
fn b64_lines(bytes: &[u8]) -> String {
    let flat = b64(bytes);
    let mut out = String::new();
    for chunk in flat.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push_str("\r\n");
    }
    out
}

/// Quoted-printable of every byte outside printable ASCII, with soft line breaks.
fn qp(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut line = 0;
    for &b in bytes {
        let piece = match b {
            b'\r' => continue,
            b'\n' => {
                out.push_str("\r\n");
                line = 0;
                continue;
            }
            b' ' | b'!'..=b'<' | b'>'..=b'~' => (b as char).to_string(),
            _ => format!("={b:02X}"),
        };
        if line + piece.len() > 72 {
            out.push_str("=\r\n");
            line = 0;
        }
        line += piece.len();
        out.push_str(&piece);
    }
    out
}

fn decoded(raw: &[u8]) -> super::Decoded {
    decode(&parse(raw).expect("a message"))
}

#[test]
fn every_korean_label_in_body_and_subject() {
    let body = "똠방각하, 뷁 문의드립니다.\r\n환불 부탁드립니다.";
    let subject = "[문의] 똠방각하 뷁";
    for label in KOREAN_LABELS {
        for label in [label.to_string(), label.to_ascii_uppercase()] {
            for cte in ["base64", "quoted-printable", "8bit"] {
                let bytes = euc_kr(body);
                let encoded = match cte {
                    "base64" => b64_lines(&bytes).into_bytes(),
                    "quoted-printable" => qp(&bytes).into_bytes(),
                    _ => bytes.clone(),
                };
                let mut raw = format!(
                    "From: {} <kim@example.com>\r\nTo: help@example.com\r\nSubject: {}\r\n\
                     MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"{label}\"\r\n\
                     Content-Transfer-Encoding: {cte}\r\n\r\n",
                    b_word(&label, &euc_kr("김민준")),
                    b_word(&label, &euc_kr(subject)),
                )
                .into_bytes();
                raw.extend_from_slice(&encoded);
                let d = decoded(&raw);
                assert_eq!(d.subject, subject, "{label} {cte}");
                assert_eq!(
                    d.from,
                    Some(Mailbox {
                        name: "김민준".into(),
                        address: "kim@example.com".into()
                    }),
                    "{label} {cte}"
                );
                assert_eq!(d.text, body, "{label} {cte}");
                assert_eq!(d.html, None);
            }
        }
    }
}

#[test]
fn cp949_part_inside_multipart() {
    let body = "뷁 주문번호 123";
    let raw = format!(
        "From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=x-uhc\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
         --b1\r\nContent-Type: text/html; charset=CP949\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n\
         --b1--\r\n",
        b64_lines(&euc_kr(body)),
        qp(&euc_kr(&format!("<p>{body}</p>"))),
    );
    let d = decoded(raw.as_bytes());
    assert_eq!(d.text, body);
    assert_eq!(d.html.as_deref(), Some("<p>뷁 주문번호 123</p>"));
}

#[test]
fn iso_2022_kr_body_and_subject() {
    let body = "안녕하세요.\r\n배송 문의입니다.\r\n";
    let bytes = super::iso2022kr::tests::encode(body);
    let mut raw = format!(
        "From: {} <lee@example.com>\r\nSubject: {}\r\nContent-Type: text/plain; charset=ISO-2022-KR\r\n\
         Content-Transfer-Encoding: 7bit\r\n\r\n",
        b_word("ISO-2022-KR", &super::iso2022kr::tests::encode("이서연")),
        b_word("iso-2022-kr", &super::iso2022kr::tests::encode("배송 문의")),
    )
    .into_bytes();
    raw.extend_from_slice(&bytes);
    let d = decoded(&raw);
    assert_eq!(d.subject, "배송 문의");
    assert_eq!(d.from.map(|m| m.name).as_deref(), Some("이서연"));
    assert_eq!(d.text, body);
}

#[test]
fn characters_split_across_encoded_words() {
    let subject = "견적 요청 드립니다 😀👍";
    let s = subject.as_bytes();
    // UTF-8 cut inside a syllable and inside the first emoji; EUC-KR cut between two bytes.
    let name = euc_kr("박뷁");
    let raw = format!(
        "From: {}\r\n {} <park@example.com>\r\nReply-To: {}{} <reply@example.com>\r\n\
         To: a@example.com, {} <b@example.com>\r\nCc: c@example.com\r\n\
         Subject: {}\r\n {}\r\n {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n본문 🎉\r\n",
        b_word("EUC-KR", &name[..1]),
        q_word("euc-kr", &name[1..]),
        b_word("UTF-8", &"😀".as_bytes()[..2]),
        b_word("UTF-8", &"😀".as_bytes()[2..]),
        b_word("UTF-8", "비".as_bytes()),
        b_word("UTF-8", &s[..2]),
        b_word("utf-8", &s[2..s.len() - 6]),
        b_word("UTF-8", &s[s.len() - 6..]),
    );
    let d = decoded(raw.as_bytes());
    assert_eq!(d.subject, subject);
    assert_eq!(
        d.from,
        Some(Mailbox {
            name: "박뷁".into(),
            address: "park@example.com".into()
        })
    );
    assert_eq!(d.reply_to.map(|m| m.name).as_deref(), Some("😀"));
    assert_eq!(d.to, ["a@example.com", "b@example.com"]);
    assert_eq!(d.cc, ["c@example.com"]);
    assert_eq!(d.text, "본문 🎉\r\n");
}

#[test]
fn eight_bit_euc_kr_headers() {
    let mut raw = b"From: ".to_vec();
    raw.extend(euc_kr("최지우"));
    raw.extend_from_slice(b" <choi@example.com>\r\nSubject: ");
    raw.extend(euc_kr("환불 요청 똠방각하"));
    raw.extend_from_slice(b"\r\nContent-Type: text/plain; charset=ks_c_5601-1987\r\n\r\n");
    raw.extend(euc_kr("내용"));
    let d = decoded(&raw);
    assert_eq!(d.subject, "환불 요청 똠방각하");
    assert_eq!(d.from.map(|m| m.name).as_deref(), Some("최지우"));
    assert_eq!(d.text, "내용");
}

#[test]
fn unlabelled_eight_bit_body_is_cp949() {
    let mut raw = b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    raw.extend(euc_kr("똠방각하 답변 부탁"));
    assert_eq!(decoded(&raw).text, "똠방각하 답변 부탁");
    let mut raw = b"Subject: x\r\nContent-Type: text/plain; charset=x-mac-korean\r\n\r\n".to_vec();
    raw.extend(euc_kr("모르는 이름"));
    assert_eq!(decoded(&raw).text, "모르는 이름");
    let raw = "From: a@example.com\r\nSubject: x\r\n\r\nUTF-8 본문";
    assert_eq!(decoded(raw.as_bytes()).text, "UTF-8 본문");
}

#[test]
fn not_a_message() {
    assert!(parse(b"").is_err());
}

#[test]
fn ids_without_angle_brackets_oldest_first() {
    let raw = "Message-ID: <c@example.com>\r\nIn-Reply-To: <b@example.com>\r\n\
        References: <a@example.com>\r\n <b@example.com>\r\nSubject: Re: x\r\n\r\nbody\r\n";
    let d = decoded(raw.as_bytes());
    assert_eq!(d.message_id.as_deref(), Some("c@example.com"));
    assert_eq!(d.in_reply_to, ["b@example.com"]);
    assert_eq!(d.references, ["a@example.com", "b@example.com"]);
}

#[test]
fn html_only_mail() {
    let html = "<html><head><style>p{}</style><script>alert(1)</script></head><body>\
        <p>고객님,&nbsp;안녕하세요.</p><p onclick=\"x()\">주문 확인<br>부탁드립니다 &#54620;</p>\
        <ul><li>상품 A</li><li>상품 B</li></ul><img src=\"cid:logo@x\"><a href=\"javascript:x()\">링크</a>\
        <iframe src=\"https://evil\"></iframe><form><input></form></body></html>";
    let raw = format!(
        "From: a@example.com\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}",
        b64_lines(html.as_bytes())
    );
    let d = decoded(raw.as_bytes());
    assert_eq!(
        d.text,
        "고객님, 안녕하세요.\n\n주문 확인\n부탁드립니다 한\n\n- 상품 A\n- 상품 B\n\n링크"
    );
    assert_eq!(
        d.html.as_deref(),
        Some(
            "<p>고객님,&nbsp;안녕하세요.</p><p>주문 확인<br>부탁드립니다 &#54620;</p>\
             <ul><li>상품 A</li><li>상품 B</li></ul><img src=\"cid:logo@x\"><a>링크</a>"
        )
    );
}

#[test]
fn text_and_html_both_kept() {
    let raw = "From: a@example.com\r\nSubject: both\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
        --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n텍스트 본문\r\n\
        --b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div>HTML 본문</div>\r\n--b--\r\n";
    let d = decoded(raw.as_bytes());
    assert_eq!(d.text, "텍스트 본문");
    assert_eq!(d.html.as_deref(), Some("<div>HTML 본문</div>"));
}

fn pct(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

#[test]
fn attachments_names_inline_and_attached_mail() {
    let long = "견적서_2024년_최종.pdf".as_bytes();
    let eucname = euc_kr("뷁사진.jpg");
    let inner = format!(
        "From: x@example.com\r\nSubject: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n원래 메일\r\n",
        b_word("UTF-8", "원래 문의".as_bytes())
    );
    let raw = format!(
        "From: a@example.com\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
         --m\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>사진 <img src=\"cid:img1@x\"></p>\r\n\
         --r\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Disposition: inline\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--r--\r\n\
         --m\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*=UTF-8''{}\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n\
         --m\r\nContent-Type: application/x-hwp\r\nContent-Disposition: attachment;\r\n filename*0*=utf-8''{};\r\n filename*1*={}\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nSFdQ\r\n\
         --m\r\nContent-Type: image/jpeg; name=\"{} {}\"\r\nContent-Disposition: attachment\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n/9j/\r\n\
         --m\r\nContent-Type: text/plain; charset=cp949; name=\"memo.txt\"\r\nContent-Disposition: attachment\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\
         --m\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n{inner}\r\n--m--\r\n",
        pct(long),
        pct(&"계약서.hwp".as_bytes()[..4]),
        pct(&"계약서.hwp".as_bytes()[4..]),
        b_word("EUC-KR", &eucname[..1]),
        b_word("EUC-KR", &eucname[1..]),
        b64_lines(&euc_kr("메모 뷁")),
    );
    let d = decoded(raw.as_bytes());
    assert_eq!(d.text, "사진");
    let summary: Vec<(&str, &str, &str)> = d
        .attachments
        .iter()
        .map(|a| {
            (
                a.file_name.as_str(),
                a.content_type.as_str(),
                a.content_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("attachment", "image/png", "img1@x"),
            ("견적서_2024년_최종.pdf", "application/pdf", ""),
            ("계약서.hwp", "application/x-hwp", ""),
            ("뷁사진.jpg", "image/jpeg", ""),
            ("memo.txt", "text/plain", ""),
            ("원래 문의.eml", "message/rfc822", ""),
        ]
    );
    assert_eq!(d.attachments[0].content, b"\x89PNG");
    assert_eq!(d.attachments[1].content, b"%PDF");
    assert_eq!(d.attachments[4].content, euc_kr("메모 뷁"));
    assert!(d.attachments[5].content.starts_with(b"From: x@example.com"));
}

#[test]
fn winmail_dat_unpacked() {
    let blob = super::tnef::tests::blob(&[
        ("견적서.pdf", b"%PDF-1.4", None),
        ("IMAGE~1.PNG", b"\x89PNG", Some("현장 사진.png")),
    ]);
    let raw = format!(
        "From: a@example.com\r\nSubject: outlook\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n\
         --m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n첨부합니다\r\n\
         --m\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\n\
         Content-Disposition: attachment; filename=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}--m--\r\n",
        b64_lines(&blob)
    );
    let d = decoded(raw.as_bytes());
    assert_eq!(
        d.attachments,
        [
            Attachment {
                file_name: "견적서.pdf".into(),
                content_type: "application/pdf".into(),
                content: b"%PDF-1.4".to_vec(),
                content_id: String::new(),
            },
            Attachment {
                file_name: "현장 사진.png".into(),
                content_type: "image/png".into(),
                content: b"\x89PNG".to_vec(),
                content_id: String::new(),
            },
        ]
    );
    // A damaged winmail.dat stays as it is.
    let raw = raw.replace(&b64_lines(&blob), "AAAA\r\n");
    let d = decoded(raw.as_bytes());
    assert_eq!(d.attachments.len(), 1);
    assert_eq!(d.attachments[0].file_name, "winmail.dat");
}

#[test]
fn truncated_and_garbage_input_never_panics() {
    let tnef = super::tnef::tests::blob(&[("a.txt", b"A", None)]);
    let mut raw = format!(
        "From: {} <a@example.com>\r\nSubject: {}\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n\
         --m\r\nContent-Type: text/html; charset=cp949\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n\
         --m\r\nContent-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
         --m\r\nContent-Type: text/plain; charset=iso-2022-kr\r\n\r\n",
        b_word("cp949", &euc_kr("뷁")),
        q_word("ISO-2022-KR", &super::iso2022kr::tests::encode("한글")),
        qp(&euc_kr("<p>뷁<br><ul><li>x</ul><a href='javascript:x'>")),
        b64_lines(&tnef),
    )
    .into_bytes();
    raw.extend(super::iso2022kr::tests::encode("한글 본문"));
    raw.extend_from_slice(b"\r\n--m--\r\n");
    for n in 0..raw.len() {
        if let Ok(m) = parse(&raw[..n]) {
            let _ = decode(&m);
        }
    }
    // Pseudo-random bytes (an LCG), with and without a header-looking start.
    let mut seed = 0x2545_f491u32;
    for round in 0..300 {
        let len = (round * 7) % 600;
        let mut bytes: Vec<u8> = if round % 2 == 0 {
            b"Subject: =?cp949?B?".to_vec()
        } else {
            Vec::new()
        };
        for _ in 0..len {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            bytes.push((seed >> 16) as u8);
        }
        if let Ok(m) = parse(&bytes) {
            let _ = decode(&m);
        }
    }
    let _ = parse(b"");
}
