//! `winmail.dat` (application/ms-tnef), Outlook's wrapping of a mail's attachments: the files
//! inside are what the customer sent, so they replace the wrapper.
//!
//! The attribute records are read by the `tnef` crate's `TnefReader` (signature, key, level,
//! id, length, data, checksum). Its `read_attachments` is not used: it drops any attachment
//! lacking a creation date, a modification date or MAPI properties. Here an attachment starts
//! at attAttachRendData and needs only data; its name is the MAPI long file name
//! (PR_ATTACH_LONG_FILENAME, Outlook's attAttachTitle is often an 8.3 name), else the title.

use super::charset;
use tnef::{AttachAttrId, AttributeId, TnefReader};

/// One file found inside a TNEF blob.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TnefFile {
    pub name: String,
    pub content: Vec<u8>,
}

/// PR_ATTACH_LONG_FILENAME's property id.
const LONG_FILENAME: u16 = 0x3707;
const PT_STRING8: u16 = 0x001e;
const PT_UNICODE: u16 = 0x001f;

/// The files in `blob`; `None` when it is not TNEF or holds no file (the caller then keeps
/// the winmail.dat itself). A damaged record ends the reading; the files before it are kept.
pub fn unpack(blob: &[u8]) -> Option<Vec<TnefFile>> {
    let reader = TnefReader::new(blob).ok()?;
    let code_page = code_page_label(reader.get_code_page());
    let mut files = Vec::new();
    let mut current: Option<Current> = None;
    for attribute in reader {
        let Ok((AttributeId::Attachment(id), data)) = attribute else {
            if attribute.is_err() {
                break;
            }
            continue;
        };
        if id == AttachAttrId::AttachRendData {
            files.extend(current.take().and_then(Current::finish));
            current = Some(Current::default());
            continue;
        }
        let cur = current.get_or_insert_with(Current::default);
        match id {
            AttachAttrId::Data => cur.content = Some(data.to_vec()),
            AttachAttrId::Title => cur.title = Some(string8(data, &code_page)),
            AttachAttrId::Attachment => cur.long_name = long_file_name(data, &code_page),
            _ => {}
        }
    }
    files.extend(current.and_then(Current::finish));
    (!files.is_empty()).then_some(files)
}

/// The attachment being read.
#[derive(Default)]
struct Current {
    title: Option<String>,
    long_name: Option<String>,
    content: Option<Vec<u8>>,
}

impl Current {
    fn finish(self) -> Option<TnefFile> {
        let content = self.content?;
        let name = self
            .long_name
            .filter(|n| !n.is_empty())
            .or(self.title.filter(|n| !n.is_empty()))
            .unwrap_or_else(|| "attachment".to_string());
        Some(TnefFile { name, content })
    }
}

/// The charset label of a Windows code page.
fn code_page_label(code_page: u32) -> String {
    match code_page {
        65001 => "utf-8".into(),
        949 => "cp949".into(),
        932 => "shift_jis".into(),
        936 => "gbk".into(),
        950 => "big5".into(),
        n => format!("windows-{n}"),
    }
}

/// A NUL-terminated 8-bit string in the blob's code page.
fn string8(data: &[u8], code_page: &str) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    charset::decode(Some(code_page), &data[..end])
}

/// A little-endian reader that never panics: `None` past the end.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A length-prefixed value padded to 4 bytes.
    fn padded(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        let value = self.take(len)?;
        self.take((4 - len % 4) % 4)?;
        Some(value)
    }
}

/// PR_ATTACH_LONG_FILENAME in the MAPI properties of attAttachment (MS-OXTNEF §2.1.3.4).
fn long_file_name(props: &[u8], code_page: &str) -> Option<String> {
    let mut c = Cursor(props);
    let count = c.u32()?;
    for _ in 0..count {
        let ptype = c.u16()?;
        let pid = c.u16()?;
        if pid >= 0x8000 {
            // A named property: GUID, then a number or a name.
            c.take(16)?;
            match c.u32()? {
                0 => {
                    c.u32()?;
                }
                _ => {
                    c.padded()?;
                }
            }
        }
        let multi = ptype & 0x1000 != 0;
        let base = ptype & !0x1000;
        let variable = matches!(base, PT_STRING8 | PT_UNICODE | 0x0102 | 0x000d);
        let values = if multi || variable { c.u32()? } else { 1 };
        for _ in 0..values {
            if variable {
                let value = c.padded()?;
                if pid == LONG_FILENAME && base == PT_STRING8 {
                    return Some(string8(value, code_page));
                }
                if pid == LONG_FILENAME && base == PT_UNICODE {
                    let units: Vec<u16> = value
                        .chunks_exact(2)
                        .map(|p| u16::from_le_bytes([p[0], p[1]]))
                        .take_while(|&u| u != 0)
                        .collect();
                    return Some(String::from_utf16_lossy(&units));
                }
            } else {
                let size = match base {
                    0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => 8,
                    0x0048 => 16,
                    _ => 4,
                };
                c.take(size)?;
            }
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn record(out: &mut Vec<u8>, level: u8, id: u32, data: &[u8]) {
        out.push(level);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        let sum = data.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        out.extend_from_slice(&sum.to_le_bytes());
    }

    const REND_DATA: &[u8] = &[1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];

    /// MAPI properties holding only PR_ATTACH_LONG_FILENAME (PT_UNICODE) and a PT_LONG before it.
    fn props_with_long_name(name: &str) -> Vec<u8> {
        let mut p = 2u32.to_le_bytes().to_vec();
        p.extend_from_slice(&0x0003u16.to_le_bytes());
        p.extend_from_slice(&0x0e20u16.to_le_bytes()); // PR_ATTACH_SIZE
        p.extend_from_slice(&1234u32.to_le_bytes());
        p.extend_from_slice(&PT_UNICODE.to_le_bytes());
        p.extend_from_slice(&LONG_FILENAME.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        let mut utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        utf16.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&(utf16.len() as u32).to_le_bytes());
        p.extend_from_slice(&utf16);
        while !p.len().is_multiple_of(4) {
            p.push(0);
        }
        p
    }

    /// A TNEF blob: version, OEM code page 949, a message class, then `files`
    /// (title in CP949, data, and optionally a long name in MAPI properties).
    pub(crate) fn blob(files: &[(&str, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut out = 0x223e_9f78u32.to_le_bytes().to_vec();
        out.extend_from_slice(&0x0001u16.to_le_bytes());
        record(&mut out, 1, 0x0008_9006, &[0, 0, 1, 0]);
        let mut cp = 949u32.to_le_bytes().to_vec();
        cp.extend_from_slice(&0u32.to_le_bytes());
        record(&mut out, 1, 0x0006_9007, &cp);
        record(&mut out, 1, 0x0007_8008, b"IPM.Microsoft Mail.Note\0");
        for (title, data, long) in files {
            record(&mut out, 2, 0x0006_9002, REND_DATA);
            let (mut t, _, _) = encoding_rs::EUC_KR.encode(title);
            let mut t = t.to_mut().clone();
            t.push(0);
            record(&mut out, 2, 0x0001_8010, &t);
            record(&mut out, 2, 0x0006_800f, data);
            if let Some(long) = long {
                record(&mut out, 2, 0x0006_9005, &props_with_long_name(long));
            }
        }
        out
    }

    #[test]
    fn unpacks_titles_and_data() {
        let b = blob(&[
            ("견적서.txt", b"hello", None),
            ("PHOTO~1.JPG", b"\xff\xd8\xff", Some("현장 사진 뷁.jpg")),
        ]);
        assert_eq!(
            unpack(&b),
            Some(vec![
                TnefFile {
                    name: "견적서.txt".into(),
                    content: b"hello".to_vec()
                },
                TnefFile {
                    name: "현장 사진 뷁.jpg".into(),
                    content: b"\xff\xd8\xff".to_vec()
                },
            ])
        );
    }

    #[test]
    fn damaged_or_empty_blobs() {
        assert_eq!(unpack(b""), None);
        assert_eq!(unpack(b"not tnef at all"), None);
        assert_eq!(unpack(&blob(&[])), None);
        let b = blob(&[("a.txt", b"A", None), ("b.txt", b"B", None)]);
        // Cut inside the second file's data: the first survives.
        let cut = &b[..b.len() - 4];
        assert_eq!(unpack(cut).map(|f| f.len()), Some(1));
        for n in 0..b.len() {
            let _ = unpack(&b[..n]);
        }
        assert_eq!(long_file_name(&[5, 0, 0, 0, 0x1f, 0x10], "cp949"), None);
    }
}
