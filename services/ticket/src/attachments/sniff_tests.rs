use super::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj";
const ZIP: &[u8] = b"PK\x03\x04\x14\0\x06\0\x08\0";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0";

/// A minimal PE header: "MZ", the offset of "PE\0\0" at 0x3c, the signature at 0x40.
fn pe() -> Vec<u8> {
    let mut bytes = vec![0u8; 0x48];
    bytes[..2].copy_from_slice(b"MZ");
    bytes[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    bytes[0x40..0x44].copy_from_slice(b"PE\0\0");
    bytes
}

#[test]
fn signatures_are_recognised() {
    let mut webp = b"RIFF\0\0\0\0WEBPVP8 ".to_vec();
    assert_eq!(detect(&webp), Some(Format::Webp));
    webp[8..12].copy_from_slice(b"WAVE");
    assert_eq!(detect(&webp), Some(Format::Wav));
    let cases: &[(&[u8], Format)] = &[
        (PNG, Format::Png),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", Format::Jpeg),
        (b"GIF89a\x01\0\x01\0", Format::Gif),
        (b"II*\0\x08\0\0\0", Format::Tiff),
        (PDF, Format::Pdf),
        (ZIP, Format::Zip),
        (b"PK\x05\x06\0\0\0\0", Format::Zip),
        (b"\x1f\x8b\x08\0", Format::Gzip),
        (b"7z\xbc\xaf\x27\x1c\0\x04", Format::SevenZip),
        (b"Rar!\x1a\x07\x01\0", Format::Rar),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", Format::Ole2),
        (b"\0\0\0\x18ftypmp42\0\0\0\0", Format::IsoMedia),
        (b"OggS\0\x02", Format::Ogg),
        (ELF, Format::Elf),
        (b"\xcf\xfa\xed\xfe\x07\0\0\x01", Format::MachO),
    ];
    for (bytes, format) in cases {
        assert_eq!(detect(bytes), Some(*format), "{format:?}");
    }
    assert_eq!(detect(&pe()), Some(Format::Pe));
}

#[test]
fn weak_or_truncated_signatures_are_not_formats() {
    // Text that happens to start like a signature.
    assert_eq!(detect(b"MZ-Beratung, 2. Stock"), None);
    assert_eq!(detect(b"RIFF raff"), None);
    assert_eq!(detect(b"PK"), None);
    // "MZ" whose header points past the end, or at something else.
    let mut bogus = pe();
    bogus[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(detect(&bogus), None);
    bogus[0x3c..0x40].copy_from_slice(&0x10u32.to_le_bytes());
    assert_eq!(detect(&bogus), None);
    assert_eq!(detect(b""), None);
    assert_eq!(detect("안녕하세요".as_bytes()), None);
}

#[test]
fn a_declared_format_must_be_what_the_bytes_are() {
    assert_eq!(check("image/png", PNG), Ok(()));
    assert_eq!(check("IMAGE/PNG".to_lowercase().as_str(), PNG), Ok(()));
    let lie = check("image/png", PDF).unwrap_err();
    assert_eq!(lie.found, Some(Format::Pdf));
    assert_eq!(
        lie.to_string(),
        "is \"image/png\", but the content is a PDF document"
    );
    let exe = check("image/jpeg", &pe()).unwrap_err();
    assert_eq!(exe.found, Some(Format::Pe));
    // Bytes of no known format do not make a PNG either.
    let garbage = check("image/png", b"hello").unwrap_err();
    assert_eq!(garbage.found, None);
    assert_eq!(
        garbage.to_string(),
        "is \"image/png\", but the content is not a PNG image"
    );
    assert!(check("application/pdf", b"").is_err());
}

#[test]
fn office_documents_are_zip_or_ole2() {
    let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    assert_eq!(check(docx, ZIP), Ok(()));
    assert_eq!(check("application/vnd.hancom.hwpx", ZIP), Ok(()));
    assert_eq!(
        check("application/x-hwp", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        Ok(())
    );
    assert!(check(docx, PDF).is_err());
    assert!(check("application/msword", ZIP).is_err());
}

#[test]
fn text_may_be_any_encoding_but_not_a_binary_format() {
    let euc_kr = b"\xbe\xc8\xb3\xe7\xc7\xcf\xbc\xbc\xbf\xe4"; // 안녕하세요 in EUC-KR
    assert_eq!(check("text/plain; charset=euc-kr", euc_kr), Ok(()));
    assert_eq!(check("text/csv", "이름,전화\n".as_bytes()), Ok(()));
    let exe = check("text/plain", ELF).unwrap_err();
    assert_eq!(exe.claimed, "text/plain");
    assert_eq!(
        exe.to_string(),
        "is \"text/plain\", but the content is an ELF executable"
    );
    assert!(check("application/json", PNG).is_err());
}

#[test]
fn types_without_a_signature_are_taken_as_given() {
    for content_type in [
        "application/octet-stream",
        "audio/mpeg",
        "application/x-foo",
    ] {
        assert_eq!(check(content_type, &pe()), Ok(()), "{content_type}");
        assert_eq!(check(content_type, b""), Ok(()), "{content_type}");
    }
}

#[test]
fn parameters_are_not_part_of_the_claim() {
    assert_eq!(essence("text/plain; charset=utf-8"), "text/plain");
    assert_eq!(essence("image/png ;x=y"), "image/png");
    assert_eq!(claim("image/png; q=1"), Claim::Format(Format::Png));
    assert_eq!(claim("text/html"), Claim::Text);
    assert_eq!(claim("application/octet-stream"), Claim::Nothing);
}

#[test]
fn every_claimed_format_with_a_canonical_type_claims_itself_back() {
    let formats = [
        Format::Png,
        Format::Jpeg,
        Format::Gif,
        Format::Webp,
        Format::Tiff,
        Format::Pdf,
        Format::Zip,
        Format::Gzip,
        Format::SevenZip,
        Format::Rar,
        Format::Ole2,
        Format::IsoMedia,
        Format::Ogg,
        Format::Wav,
        Format::Pe,
        Format::Elf,
        Format::MachO,
    ];
    for format in formats {
        if let Some(content_type) = canonical_type(format) {
            assert_eq!(claim(content_type), Claim::Format(format), "{content_type}");
        }
    }
}
