//! A streaming zip writer: deflated entries whose CRC and sizes follow their data (general
//! purpose flag bit 3), then the central directory. Only what a workbook needs: no zip64, so an
//! entry stays under 4 GiB (the export's row limit keeps it far below).

use std::io::{self, Write};

use flate2::{Compression, write::DeflateEncoder};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
/// Bit 3: sizes and CRC in the data descriptor; bit 11: names are UTF-8.
const FLAGS: u16 = 0x0808;
const DEFLATE: u16 = 8;
const VERSION: u16 = 20;
/// 1980-01-01 00:00 in MS-DOS form: the entries carry no meaningful time.
const DOS_DATE: u16 = 0x0021;

struct Finished {
    name: String,
    offset: u32,
    crc: u32,
    compressed: u32,
    uncompressed: u32,
}

struct Open {
    name: String,
    offset: u32,
    crc: crc32fast::Hasher,
    uncompressed: u64,
    compressed: u64,
    encoder: DeflateEncoder<Vec<u8>>,
}

/// Writes a zip archive into `out` as entries are written.
pub struct ZipStream<W: Write> {
    out: W,
    written: u64,
    entries: Vec<Finished>,
    open: Option<Open>,
}

fn too_large() -> io::Error {
    io::Error::other("the archive is over 4 GiB, which this writer does not support")
}

impl<W: Write> ZipStream<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            written: 0,
            entries: Vec::new(),
            open: None,
        }
    }

    /// The sink, to take what was written so far (for example a buffer to send).
    pub fn output(&mut self) -> &mut W {
        &mut self.out
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Ends the open entry, if any, and starts `name`.
    pub fn start_entry(&mut self, name: &str) -> io::Result<()> {
        self.finish_entry()?;
        let offset = u32::try_from(self.written).map_err(|_| too_large())?;
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&LOCAL_HEADER.to_le_bytes());
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&FLAGS.to_le_bytes());
        header.extend_from_slice(&DEFLATE.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // time
        header.extend_from_slice(&DOS_DATE.to_le_bytes());
        header.extend_from_slice(&[0; 12]); // crc and sizes: in the data descriptor
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // extra field length
        header.extend_from_slice(name.as_bytes());
        self.emit(&header)?;
        self.open = Some(Open {
            name: name.to_owned(),
            offset,
            crc: crc32fast::Hasher::new(),
            uncompressed: 0,
            compressed: 0,
            encoder: DeflateEncoder::new(Vec::new(), Compression::fast()),
        });
        Ok(())
    }

    /// Writes the open entry's next bytes.
    pub fn write_data(&mut self, bytes: &[u8]) -> io::Result<()> {
        let open = self
            .open
            .as_mut()
            .ok_or_else(|| io::Error::other("no entry is open"))?;
        open.crc.update(bytes);
        open.uncompressed += bytes.len() as u64;
        open.encoder.write_all(bytes)?;
        let compressed = std::mem::take(open.encoder.get_mut());
        open.compressed += compressed.len() as u64;
        self.emit(&compressed)
    }

    fn finish_entry(&mut self) -> io::Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let rest = open.encoder.finish()?;
        let compressed = open.compressed + rest.len() as u64;
        self.emit(&rest)?;
        let finished = Finished {
            name: open.name,
            offset: open.offset,
            crc: open.crc.finalize(),
            compressed: u32::try_from(compressed).map_err(|_| too_large())?,
            uncompressed: u32::try_from(open.uncompressed).map_err(|_| too_large())?,
        };
        let mut descriptor = Vec::with_capacity(16);
        descriptor.extend_from_slice(&DATA_DESCRIPTOR.to_le_bytes());
        descriptor.extend_from_slice(&finished.crc.to_le_bytes());
        descriptor.extend_from_slice(&finished.compressed.to_le_bytes());
        descriptor.extend_from_slice(&finished.uncompressed.to_le_bytes());
        self.emit(&descriptor)?;
        self.entries.push(finished);
        Ok(())
    }

    /// Ends the open entry, writes the central directory and returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.finish_entry()?;
        let start = u32::try_from(self.written).map_err(|_| too_large())?;
        let mut directory = Vec::new();
        for entry in &self.entries {
            directory.extend_from_slice(&CENTRAL_HEADER.to_le_bytes());
            directory.extend_from_slice(&VERSION.to_le_bytes()); // made by
            directory.extend_from_slice(&VERSION.to_le_bytes()); // needed
            directory.extend_from_slice(&FLAGS.to_le_bytes());
            directory.extend_from_slice(&DEFLATE.to_le_bytes());
            directory.extend_from_slice(&0u16.to_le_bytes());
            directory.extend_from_slice(&DOS_DATE.to_le_bytes());
            directory.extend_from_slice(&entry.crc.to_le_bytes());
            directory.extend_from_slice(&entry.compressed.to_le_bytes());
            directory.extend_from_slice(&entry.uncompressed.to_le_bytes());
            directory.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
            directory.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            directory.extend_from_slice(&entry.offset.to_le_bytes());
            directory.extend_from_slice(entry.name.as_bytes());
        }
        let size = u32::try_from(directory.len()).map_err(|_| too_large())?;
        let count = self.entries.len() as u16;
        directory.extend_from_slice(&END_OF_CENTRAL_DIRECTORY.to_le_bytes());
        directory.extend_from_slice(&[0; 4]); // disk numbers
        directory.extend_from_slice(&count.to_le_bytes());
        directory.extend_from_slice(&count.to_le_bytes());
        directory.extend_from_slice(&size.to_le_bytes());
        directory.extend_from_slice(&start.to_le_bytes());
        directory.extend_from_slice(&0u16.to_le_bytes()); // comment length
        self.emit(&directory)?;
        Ok(self.out)
    }
}

/// Reads a zip written by [`ZipStream`] back into (name, contents) pairs, through its central
/// directory. For tests, here and in the service's integration tests.
pub fn read_entries(archive: &[u8]) -> io::Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let bad = |what: &str| io::Error::other(format!("not a zip archive: {what}"));
    let u16_at = |at: usize| -> io::Result<u16> {
        archive
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| bad("truncated"))
    };
    let u32_at = |at: usize| -> io::Result<u32> {
        archive
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| bad("truncated"))
    };
    let end = archive
        .len()
        .checked_sub(22)
        .ok_or_else(|| bad("too short"))?;
    if u32_at(end)? != END_OF_CENTRAL_DIRECTORY {
        return Err(bad("no end of central directory"));
    }
    let count = u16_at(end + 10)? as usize;
    let mut at = u32_at(end + 16)? as usize;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(at)? != CENTRAL_HEADER {
            return Err(bad("central header"));
        }
        let crc = u32_at(at + 16)?;
        let compressed = u32_at(at + 20)? as usize;
        let name_len = u16_at(at + 28)? as usize;
        let extra_len = u16_at(at + 30)? as usize;
        let comment_len = u16_at(at + 32)? as usize;
        let offset = u32_at(at + 42)? as usize;
        let name = String::from_utf8_lossy(
            archive
                .get(at + 46..at + 46 + name_len)
                .ok_or_else(|| bad("name"))?,
        )
        .into_owned();
        if u32_at(offset)? != LOCAL_HEADER {
            return Err(bad("local header"));
        }
        let data_start =
            offset + 30 + u16_at(offset + 26)? as usize + u16_at(offset + 28)? as usize;
        let data = archive
            .get(data_start..data_start + compressed)
            .ok_or_else(|| bad("data"))?;
        let mut contents = Vec::new();
        flate2::read::DeflateDecoder::new(data).read_to_end(&mut contents)?;
        if crc32fast::hash(&contents) != crc {
            return Err(bad("crc mismatch"));
        }
        entries.push((name, contents));
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_the_central_directory() {
        let mut zip = ZipStream::new(Vec::new());
        zip.start_entry("a.txt").unwrap();
        zip.write_data(b"hello ").unwrap();
        zip.write_data(b"world").unwrap();
        zip.start_entry("폴더/b.xml").unwrap();
        let big = "콜백 ".repeat(50_000);
        zip.write_data(big.as_bytes()).unwrap();
        let archive = zip.finish().unwrap();
        let entries = read_entries(&archive).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], ("a.txt".to_owned(), b"hello world".to_vec()));
        assert_eq!(entries[1].0, "폴더/b.xml");
        assert_eq!(entries[1].1, big.as_bytes());
        assert!(archive.len() < big.len() / 10, "deflated");
    }
}
