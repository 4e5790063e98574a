//! The fetch cursor (UIDVALIDITY and the highest UID stored), and which UIDs a fetch takes.
//! Pure.

/// An account's cursor as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub uid_validity: u32,
    pub last_uid: u32,
    /// Grows with every reset by an admin; a fetch advances only the epoch it began in.
    pub epoch: i64,
}

impl Cursor {
    /// The cursor to fetch from once the folder reports `uid_validity`: unchanged while the
    /// server keeps it; restarted at 0 when it changed (UIDs of the old validity mean nothing
    /// now; mail fetched again is dropped as a duplicate by its Message-ID).
    pub fn under(self, uid_validity: u32) -> Cursor {
        if self.uid_validity == uid_validity {
            self
        } else {
            Cursor {
                uid_validity,
                last_uid: 0,
                epoch: self.epoch,
            }
        }
    }

    /// The `UID FETCH` set of the messages after the cursor; `None` when no UID can follow.
    pub fn fetch_set(&self) -> Option<String> {
        self.last_uid
            .checked_add(1)
            .map(|first| format!("{first}:*"))
    }
}

/// The UIDs of `found` above `last_uid`, ascending. `n:*` always matches the folder's highest
/// message even when its UID is below `n` (RFC 3501 §6.4.8), so the answer is filtered.
pub fn after(found: impl IntoIterator<Item = u32>, last_uid: u32) -> Vec<u32> {
    let mut uids: Vec<u32> = found.into_iter().filter(|uid| *uid > last_uid).collect();
    uids.sort_unstable();
    uids.dedup();
    uids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_uidvalidity_restarts_the_cursor() {
        let stored = Cursor {
            uid_validity: 7,
            last_uid: 42,
            epoch: 3,
        };
        assert_eq!(stored.under(7), stored);
        assert_eq!(
            stored.under(8),
            Cursor {
                uid_validity: 8,
                last_uid: 0,
                epoch: 3
            }
        );
        // Never fetched: validity 0 is no server's, the cursor starts at 0 either way.
        assert_eq!(Cursor::default().under(5).last_uid, 0);
    }

    #[test]
    fn the_fetch_asks_for_the_uids_after_the_cursor() {
        let at = |last_uid| Cursor {
            last_uid,
            ..Cursor::default()
        };
        assert_eq!(at(0).fetch_set().as_deref(), Some("1:*"));
        assert_eq!(at(41).fetch_set().as_deref(), Some("42:*"));
        assert_eq!(at(u32::MAX).fetch_set(), None);
    }

    #[test]
    fn the_highest_message_below_the_cursor_is_not_fetched_again() {
        assert_eq!(after([3], 3), Vec::<u32>::new());
        assert_eq!(after([9, 4, 5, 4, 2], 3), vec![4, 5, 9]);
    }
}
