//! The mails of `bench mail`: Korean customer mail as it arrives — UTF-8 and EUC-KR, plain and
//! HTML with text, with and without an attachment — each with its own Message-ID and sender,
//! so each becomes a new ticket; and the MIME bombs the quarantine must stop.

use base64::{Engine, engine::general_purpose::STANDARD};

const BODY: &str = "안녕하세요. 지난주에 주문한 상품이 파손된 상태로 배송되었습니다.\r\n\
    교환 대신 전액 환불을 원합니다. 주문 번호는 2026-1201-0042 입니다.\r\n\
    사진을 첨부합니다. 빠른 처리 부탁드립니다.\r\n";

fn base64_lines(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|line| format!("{}\r\n", String::from_utf8_lossy(line)))
        .collect()
}

fn euc_kr(text: &str) -> Vec<u8> {
    encoding_rs::EUC_KR.encode(text).0.into_owned()
}

/// Mail `sequence` of `worker` in run `run`: one of four shapes, by sequence.
pub fn mail(run: &str, worker: usize, sequence: u64) -> Vec<u8> {
    let head = format!(
        "From: =?UTF-8?B?{}?= <customer-{worker}-{sequence}@example.com>\r\n\
         To: help-{run}@bench.invalid\r\nMessage-ID: <bench-{run}-{worker}-{sequence}@example.com>\r\n\
         Date: Tue, 1 Dec 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n",
        STANDARD.encode(format!("고객 {worker}-{sequence}")),
    );
    let subject = |charset: &str, bytes: &[u8]| {
        format!("Subject: =?{charset}?B?{}?=\r\n", STANDARD.encode(bytes))
    };
    let title = format!("환불 요청 {worker}-{sequence}");
    let rest = match sequence % 4 {
        0 => format!(
            "{}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{BODY}",
            subject("UTF-8", title.as_bytes())
        ),
        1 => format!(
            "{}Content-Type: text/plain; charset=ks_c_5601-1987\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
            subject("EUC-KR", &euc_kr(&title)),
            base64_lines(&euc_kr(BODY))
        ),
        2 => format!(
            "{}Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
             --alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
             --alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
             --alt--\r\n",
            subject("UTF-8", title.as_bytes()),
            base64_lines(BODY.as_bytes()),
            base64_lines(format!("<p>{}</p>", BODY.replace("\r\n", "<br>")).as_bytes())
        ),
        _ => format!(
            "{}Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n\
             --mix\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
             --mix\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename*=UTF-8''%EC%82%AC%EC%A7%84.png\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}--mix--\r\n",
            subject("UTF-8", title.as_bytes()),
            base64_lines(BODY.as_bytes()),
            base64_lines(&png(worker, sequence))
        ),
    };
    format!("{head}{rest}").into_bytes()
}

/// A small PNG-looking file, distinct per mail (its content is stored once per hash).
fn png(worker: usize, sequence: u64) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(format!("bench {worker} {sequence}").as_bytes());
    bytes.resize(4_096, 0);
    bytes
}

/// A mail of `depth` nested multiparts.
pub fn nested(depth: usize) -> Vec<u8> {
    let mut raw = b"From: bomb@example.com\r\nSubject: nested\r\n".to_vec();
    for level in 0..depth {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n")
                .as_bytes(),
        );
    }
    raw.extend_from_slice(b"Content-Type: text/plain\r\n\r\nbottom\r\n");
    for level in (0..depth).rev() {
        raw.extend_from_slice(format!("--b{level}--\r\n").as_bytes());
    }
    raw
}

/// A mail of `parts` parts side by side.
pub fn wide(parts: usize) -> Vec<u8> {
    let mut raw =
        b"From: bomb@example.com\r\nSubject: wide\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n"
            .to_vec();
    for i in 0..parts {
        raw.extend_from_slice(format!("--p\r\nContent-Type: text/plain\r\n\r\n{i}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"--p--\r\n");
    raw
}

/// A mail of `bytes` bytes (one long body).
pub fn huge(bytes: usize) -> Vec<u8> {
    let mut raw = Vec::with_capacity(bytes);
    raw.extend_from_slice(b"From: bomb@example.com\r\nSubject: huge\r\n\r\n");
    while raw.len() < bytes {
        raw.extend_from_slice(
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        );
    }
    raw.truncate(bytes);
    raw
}
