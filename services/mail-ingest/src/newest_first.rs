//! The page keys of mail-ingest's newest-first lists (quarantined mail, outgoing mail): a row's
//! time to the microsecond and its id, so that rows of one time still page in a stable order.

use chrono::{DateTime, Utc};
use switchboard_platform::{error::invalid_field, paging::Page, request::parse_uuid};
use tonic::Status;
use uuid::Uuid;

/// The key of the row at `time` with `id`.
pub fn key(time: &Option<prost_types::Timestamp>, id: &str) -> String {
    let micros = time
        .as_ref()
        .map(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1_000)
        .unwrap_or_default();
    format!("{micros}/{id}")
}

/// Where `page` starts: the time and id of the previous page's last row.
pub fn after(page: &Page) -> Result<Option<(DateTime<Utc>, Uuid)>, Status> {
    let bad_token = || invalid_field("page_token", "not a page token of this list");
    let Some(key) = page.after.as_deref() else {
        return Ok(None);
    };
    let (micros, id) = key.split_once('/').ok_or_else(bad_token)?;
    let at = micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad_token)?;
    Ok(Some((at, parse_uuid(id).ok_or_else(bad_token)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_keys_round_trip_through_a_page_token() {
        let at = prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 123_456_000,
        };
        let mut rows = vec![(at, Uuid::now_v7()), (at, Uuid::now_v7())];
        let first = rows[0].1;
        let page = Page::parse(1, "", b"filters").unwrap();
        assert_eq!(after(&page).unwrap(), None);
        let token = page.finish(&mut rows, |(t, id)| key(&Some(*t), &id.to_string()));
        let next = Page::parse(1, &token, b"filters").unwrap();
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        assert_eq!(after(&next).unwrap(), Some((at, first)));
    }
}
