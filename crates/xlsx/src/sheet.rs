//! One worksheet of inline strings and numbers, with the few parts Excel and LibreOffice need
//! around it. No shared-strings table: it would have to hold every distinct string in memory.

use std::io::{self, Write};

use super::zip::ZipStream;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

/// Style 1 is the bold header row; style 2 a percentage (built-in number format 10, "0.00%").
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// The view that keeps the first `rows` rows in place while scrolling.
fn frozen_view(rows: u32) -> String {
    format!(
        r#"<sheetViews><sheetView workbookViewId="0"><pane ySplit="{rows}" topLeftCell="A{}" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>"#,
        rows + 1
    )
}

const SHEET_END: &str = "</sheetData></worksheet>";

/// A cell value.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Text(&'a str),
    Number(i64),
    /// A fraction shown as a percentage (0.5 → 50.00%).
    Percent(f64),
}

/// Writes a one-sheet workbook row by row into `out`.
pub struct SheetWriter<W: Write> {
    zip: ZipStream<W>,
    row: u32,
    line: String,
}

impl<W: Write> SheetWriter<W> {
    /// Writes the workbook's fixed parts and the bold `header` row of sheet `sheet_name`, kept
    /// in view while scrolling.
    pub fn new(out: W, sheet_name: &str, header: &[&str]) -> io::Result<Self> {
        let mut sheet = Self::start(out, sheet_name, 1)?;
        let header: Vec<Cell<'_>> = header.iter().map(|text| Cell::Text(text)).collect();
        sheet.bold_row(&header)?;
        Ok(sheet)
    }

    /// Writes the workbook's fixed parts and opens sheet `sheet_name`, with its first
    /// `frozen_rows` rows kept in view while scrolling (none when 0).
    pub fn start(out: W, sheet_name: &str, frozen_rows: u32) -> io::Result<Self> {
        let mut zip = ZipStream::new(out);
        let workbook = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{}" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            escape(sheet_name)
        );
        for (name, contents) in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("xl/workbook.xml", workbook.as_str()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/styles.xml", STYLES),
        ] {
            zip.start_entry(name)?;
            zip.write_data(contents.as_bytes())?;
        }
        zip.start_entry("xl/worksheets/sheet1.xml")?;
        zip.write_data(SHEET_START.as_bytes())?;
        if frozen_rows > 0 {
            zip.write_data(frozen_view(frozen_rows).as_bytes())?;
        }
        zip.write_data(b"<sheetData>")?;
        Ok(Self {
            zip,
            row: 0,
            line: String::with_capacity(1024),
        })
    }

    /// Appends one row.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        self.write_row(cells, None)
    }

    /// Appends one row in bold (a header or a total).
    pub fn bold_row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        self.write_row(cells, Some(1))
    }

    fn write_row(&mut self, cells: &[Cell<'_>], style: Option<u32>) -> io::Result<()> {
        use std::fmt::Write as _;
        self.row += 1;
        let row = self.row;
        self.line.clear();
        let _ = write!(self.line, r#"<row r="{row}">"#);
        for (index, cell) in cells.iter().enumerate() {
            let reference = format!("{}{row}", column_name(index));
            let style = style.map(|s| format!(r#" s="{s}""#)).unwrap_or_default();
            let _ = match cell {
                Cell::Text("") => write!(self.line, r#"<c r="{reference}"{style}/>"#),
                Cell::Text(text) => write!(
                    self.line,
                    r#"<c r="{reference}"{style} t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>"#,
                    escape(text)
                ),
                Cell::Number(n) => write!(self.line, r#"<c r="{reference}"{style}><v>{n}</v></c>"#),
                Cell::Percent(f) if f.is_finite() => {
                    write!(self.line, r#"<c r="{reference}" s="2"><v>{f}</v></c>"#)
                }
                Cell::Percent(_) => write!(self.line, r#"<c r="{reference}"/>"#),
            };
        }
        self.line.push_str("</row>");
        self.zip.write_data(self.line.as_bytes())
    }

    /// The sink, to take what was written so far.
    pub fn output(&mut self) -> &mut W {
        self.zip.output()
    }

    /// The rows written, the header included.
    pub fn rows(&self) -> u32 {
        self.row
    }

    /// Closes the sheet and the archive; returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.zip.write_data(SHEET_END.as_bytes())?;
        self.zip.finish()
    }
}

/// "A", "B", …, "Z", "AA", … for a zero-based column index.
fn column_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

/// Escapes XML text and drops the control characters XML 1.0 cannot carry.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::zip::read_entries;
    use super::*;

    #[test]
    fn a_workbook_with_korean_text_and_escapes() {
        let mut sheet = SheetWriter::new(Vec::new(), "콜백", &["상태", "메모"]).unwrap();
        sheet
            .row(&[Cell::Text("미처리"), Cell::Text("a < b & \"c\"\u{1}")])
            .unwrap();
        sheet.row(&[Cell::Number(3), Cell::Text("")]).unwrap();
        sheet
            .row(&[Cell::Percent(0.5), Cell::Percent(f64::NAN)])
            .unwrap();
        assert_eq!(sheet.rows(), 4);
        let archive = sheet.finish().unwrap();
        let entries = read_entries(&archive).unwrap();
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
                "xl/styles.xml",
                "xl/worksheets/sheet1.xml"
            ]
        );
        let sheet = String::from_utf8(entries[5].1.clone()).unwrap();
        assert!(
            sheet.contains(r#"<c r="A1" s="1" t="inlineStr"><is><t xml:space="preserve">상태</t>"#)
        );
        assert!(sheet.contains("a &lt; b &amp; &quot;c&quot;</t>"));
        assert!(sheet.contains(r#"<pane ySplit="1" topLeftCell="A2""#));
        assert!(sheet.contains(r#"<c r="A3"><v>3</v></c><c r="B3"/>"#));
        assert!(sheet.contains(r#"<c r="A4" s="2"><v>0.5</v></c><c r="B4"/>"#));
        assert!(String::from_utf8_lossy(&entries[2].1).contains(r#"name="콜백""#));
    }

    #[test]
    fn a_sheet_without_a_header_freezes_nothing_and_bolds_what_it_is_told() {
        let mut sheet = SheetWriter::start(Vec::new(), "현황", 0).unwrap();
        sheet.row(&[Cell::Text("기간")]).unwrap();
        sheet.bold_row(&[Cell::Text("합계")]).unwrap();
        let entries = read_entries(&sheet.finish().unwrap()).unwrap();
        let xml = String::from_utf8(entries[5].1.clone()).unwrap();
        assert!(!xml.contains("<pane"));
        assert!(xml.contains(r#"<c r="A1" t="inlineStr">"#));
        assert!(xml.contains(r#"<c r="A2" s="1" t="inlineStr">"#));
    }

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }
}
