//! Finding a MIME delimiter (`--` + boundary) in a body, in time linear in the body whatever
//! the boundary (Knuth–Morris–Pratt): a naive search costs body × boundary, which a crafted
//! mail (a body of dashes, a long boundary of dashes) turns into minutes.
//!
//! Like mail-parser, the delimiter is found anywhere, not only at the start of a line: the
//! pre-scan must see every part that mail-parser will see.

/// The delimiter of one multipart and its failure table.
#[derive(Debug, Clone)]
pub(crate) struct Delimiter {
    needle: Vec<u8>,
    /// For each prefix length + 1 of the needle, the length of its longest proper border.
    fail: Vec<u32>,
}

impl Delimiter {
    /// The delimiter of `boundary`; `None` for an empty boundary (mail-parser then reads the
    /// multipart as text) or one too long to index.
    pub(crate) fn new(boundary: &[u8]) -> Option<Self> {
        if boundary.is_empty() || boundary.len() >= u32::MAX as usize - 2 {
            return None;
        }
        let mut needle = Vec::with_capacity(boundary.len() + 2);
        needle.extend_from_slice(b"--");
        needle.extend_from_slice(boundary);
        let mut fail = vec![0u32; needle.len()];
        let mut k = 0usize;
        for i in 1..needle.len() {
            while k > 0 && needle[i] != needle[k] {
                k = fail[k - 1] as usize;
            }
            if needle[i] == needle[k] {
                k += 1;
            }
            fail[i] = k as u32;
        }
        Some(Self { needle, fail })
    }

    /// The length of `--` + boundary.
    pub(crate) fn len(&self) -> usize {
        self.needle.len()
    }

    /// The offset of the first delimiter in `haystack` at or after `from`.
    pub(crate) fn find(&self, haystack: &[u8], from: usize) -> Option<usize> {
        let mut k = 0usize;
        for (i, &byte) in haystack.iter().enumerate().skip(from) {
            while k > 0 && byte != self.needle[k] {
                k = self.fail[k - 1] as usize;
            }
            if byte == self.needle[k] {
                k += 1;
                if k == self.needle.len() {
                    return Some(i + 1 - k);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_delimiter_anywhere() {
        let d = Delimiter::new(b"ab").unwrap();
        assert_eq!(d.find(b"x\r\n--ab\r\n", 0), Some(3));
        assert_eq!(d.find(b"x---ab", 0), Some(2));
        assert_eq!(d.find(b"--a--ab", 1), Some(3));
        assert_eq!(d.find(b"--ab", 1), None);
        assert_eq!(d.find(b"-a-b", 0), None);
    }

    #[test]
    fn empty_boundary_is_none() {
        assert!(Delimiter::new(b"").is_none());
    }

    #[test]
    fn a_body_of_dashes_against_a_boundary_of_dashes_is_linear() {
        // Would be 10^6 × 1000 comparisons naively; asserts only the result.
        let boundary = vec![b'-'; 1000];
        let mut tail = boundary.clone();
        tail.push(b'x');
        let d = Delimiter::new(&tail).unwrap();
        let body = vec![b'-'; 1_000_000];
        assert_eq!(d.find(&body, 0), None);
    }
}
