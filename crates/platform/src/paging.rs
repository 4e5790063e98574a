//! List paging (AIP-158): page sizes with one default and cap, and opaque page tokens that carry
//! the last key of the page and a fingerprint of the request's filters, so a token reused with
//! other filters is refused instead of silently skipping rows.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use tonic::Status;

use crate::error::invalid_field;

/// The page size when the caller sets none.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest page; larger requests are lowered to it.
pub const MAX_PAGE_SIZE: usize = 1_000;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub size: usize,
    /// The key of the previous page's last row; `None` on the first page.
    pub after: Option<String>,
    fingerprint: String,
}

impl Page {
    /// Reads `page_size` and `page_token`; `filters` are the request's other fields in a stable
    /// encoding (the request with its paging fields cleared, encoded).
    pub fn parse(page_size: i32, page_token: &str, filters: &[u8]) -> Result<Self, Status> {
        Self::parse_sized(
            page_size,
            page_token,
            filters,
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
    }

    /// [`Page::parse`] for a list with its own default and largest page size.
    pub fn parse_sized(
        page_size: i32,
        page_token: &str,
        filters: &[u8],
        default_size: usize,
        max_size: usize,
    ) -> Result<Self, Status> {
        let size = match page_size {
            n if n < 0 => return Err(invalid_field("page_size", "must not be negative")),
            0 => default_size,
            n => (n as usize).min(max_size),
        };
        let fingerprint = fingerprint(filters);
        if page_token.is_empty() {
            return Ok(Self {
                size,
                after: None,
                fingerprint,
            });
        }
        let bad = || invalid_field("page_token", "not a page token of this list and filters");
        let decoded = URL_SAFE_NO_PAD.decode(page_token).map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (token_fingerprint, after) = decoded.split_once(':').ok_or_else(bad)?;
        if token_fingerprint != fingerprint {
            return Err(bad());
        }
        Ok(Self {
            size,
            after: Some(after.to_owned()),
            fingerprint,
        })
    }

    /// [`Page::parse`] of a list request: `paging` names its `page_size` and `page_token`
    /// fields (`|r| (&mut r.page_size, &mut r.page_token)`); the filters are the request with
    /// both cleared.
    pub fn of<R: prost::Message + Clone>(
        request: &R,
        paging: fn(&mut R) -> (&mut i32, &mut String),
    ) -> Result<Self, Status> {
        Self::of_sized(request, paging, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    }

    /// [`Page::of`] for a list with its own default and largest page size.
    pub fn of_sized<R: prost::Message + Clone>(
        request: &R,
        paging: fn(&mut R) -> (&mut i32, &mut String),
        default_size: usize,
        max_size: usize,
    ) -> Result<Self, Status> {
        let mut filters = request.clone();
        let (size, token) = paging(&mut filters);
        let (size, token) = (std::mem::take(size), std::mem::take(token));
        Self::parse_sized(
            size,
            &token,
            &filters.encode_to_vec(),
            default_size,
            max_size,
        )
    }

    /// The rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.size as i64 + 1
    }

    /// Cuts `rows` (fetched with `fetch_limit`) to the page; returns the next page token, empty
    /// on the last page. `key` gives a row's sort key.
    pub fn finish<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> String) -> String {
        if rows.len() <= self.size {
            return String::new();
        }
        rows.truncate(self.size);
        let last = rows.last().map(key).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(format!("{}:{last}", self.fingerprint))
    }

    /// Pages a list held in memory, sorted by `key`: keeps the page's rows of `rows` (those
    /// after the token's key) and returns the next page token, as [`Page::finish`] does.
    pub fn finish_sorted<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> String) -> String {
        if let Some(after) = &self.after {
            rows.retain(|row| key(row) > *after);
        }
        rows.truncate(self.fetch_limit() as usize);
        self.finish(rows, key)
    }
}

fn fingerprint(filters: &[u8]) -> String {
    let digest = Sha256::digest(filters);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use switchboard_proto::gateway::v1::ListAgentsRequest;

    use super::*;

    #[test]
    fn a_list_request_pages_by_its_own_fields_and_its_token_fits_only_its_filters() {
        let paging: fn(&mut ListAgentsRequest) -> (&mut i32, &mut String) =
            |r| (&mut r.page_size, &mut r.page_token);
        let first = ListAgentsRequest {
            page_size: 2,
            group_id: "g1".into(),
            ..Default::default()
        };
        let page = Page::of_sized(&first, paging, 10, 100).unwrap();
        assert_eq!((page.size, page.after.clone()), (2, None));
        let mut rows = vec!["a", "b", "c"];
        let token = page.finish(&mut rows, |row| (*row).to_owned());
        let next = ListAgentsRequest {
            page_token: token.clone(),
            ..first.clone()
        };
        assert_eq!(Page::of(&next, paging).unwrap().after.as_deref(), Some("b"));
        let other = ListAgentsRequest {
            group_id: "g2".into(),
            ..next
        };
        assert!(
            Page::of(&other, paging).is_err(),
            "another filter refuses the token"
        );
    }

    #[test]
    fn sizes_default_cap_and_refuse_negatives() {
        assert_eq!(Page::parse(0, "", b"").unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(Page::parse(5_000, "", b"").unwrap().size, MAX_PAGE_SIZE);
        assert_eq!(Page::parse(7, "", b"").unwrap().size, 7);
        assert!(Page::parse(-1, "", b"").is_err());
    }

    #[test]
    fn a_token_continues_after_the_last_row_with_the_same_filters_only() {
        let first = Page::parse(2, "", b"group=a").unwrap();
        let mut rows = vec!["ann", "bob", "cho"];
        let token = first.finish(&mut rows, |r| r.to_string());
        assert_eq!(rows, ["ann", "bob"]);
        let next = Page::parse(2, &token, b"group=a").unwrap();
        assert_eq!(next.after.as_deref(), Some("bob"));
        assert!(Page::parse(2, &token, b"group=b").is_err(), "other filters");
        assert!(Page::parse(2, "garbage!", b"group=a").is_err());
        let mut last = vec!["cho"];
        assert_eq!(next.finish(&mut last, |r| r.to_string()), "");
    }
}
