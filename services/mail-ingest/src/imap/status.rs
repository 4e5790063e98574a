//! What `GetMailboxStatus` shows of an account: its settings and its `imap_mailboxes` row.
//! Pure.

use chrono::{DateTime, Utc};
use switchboard_platform::time::timestamp;
use switchboard_proto::inbound::v1::{MailboxState, MailboxStatus};

use super::store::MailboxRow;
use crate::accounts::Account;

/// Whether the account is fetched at all: active, with IMAP settings.
pub fn fetched(account: &Account) -> bool {
    account.active && account.account.imap.is_some()
}

/// The status of `account` at `now`, from its row (`None` before anything was fetched).
pub fn status(account: &Account, row: Option<&MailboxRow>, now: DateTime<Utc>) -> MailboxStatus {
    let empty = MailboxRow::default();
    let row = row.unwrap_or(&empty);
    let leased = row.lease_expires.is_some_and(|until| until > now);
    let state = if !fetched(account) {
        MailboxState::Disabled
    } else if row.consecutive_failures > 0 {
        MailboxState::Failing
    } else if row.fetching && leased {
        MailboxState::Fetching
    } else {
        MailboxState::Idle
    };
    let at = |time: Option<DateTime<Utc>>| time.map(timestamp);
    MailboxStatus {
        mail_account_id: account.id.to_string(),
        address: account.account.address.clone(),
        state: state as i32,
        last_fetch_time: at(row.last_fetch_time),
        last_success_time: at(row.last_success_time),
        next_fetch_time: if fetched(account) {
            at(row.next_fetch_time)
        } else {
            None
        },
        uid_validity: u32::try_from(row.uid_validity).unwrap_or_default(),
        last_uid: u32::try_from(row.last_uid).unwrap_or_default(),
        fetched_count: row.fetched_count,
        consecutive_failures: row.consecutive_failures,
        last_error: row.last_error.clone(),
        last_error_time: at(row.last_error_time),
        lease_holder: if leased {
            row.lease_holder.clone().unwrap_or_default()
        } else {
            String::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use switchboard_proto::ticket::v1::{ImapSettings, MailAccount};
    use uuid::Uuid;

    use super::*;

    fn account(active: bool, imap: bool) -> Account {
        Account {
            id: Uuid::nil(),
            active,
            account: MailAccount {
                address: "help@example.com".into(),
                imap: imap.then(ImapSettings::default),
                ..Default::default()
            },
        }
    }

    #[test]
    fn the_state_follows_the_account_and_the_row() {
        let now = Utc::now();
        let state = |account: &Account, row: &MailboxRow| status(account, Some(row), now).state();
        let mut row = MailboxRow::default();
        assert_eq!(state(&account(false, true), &row), MailboxState::Disabled);
        assert_eq!(state(&account(true, false), &row), MailboxState::Disabled);
        assert_eq!(state(&account(true, true), &row), MailboxState::Idle);
        row.fetching = true;
        row.lease_holder = Some("pod-a".into());
        row.lease_expires = Some(now + Duration::seconds(10));
        let fetching = status(&account(true, true), Some(&row), now);
        assert_eq!(fetching.state(), MailboxState::Fetching);
        assert_eq!(fetching.lease_holder, "pod-a");
        // A holder that died mid-fetch: its lease expired, nobody fetches.
        row.lease_expires = Some(now - Duration::seconds(1));
        let dead = status(&account(true, true), Some(&row), now);
        assert_eq!(
            (dead.state(), dead.lease_holder.as_str()),
            (MailboxState::Idle, "")
        );
        row.consecutive_failures = 2;
        assert_eq!(state(&account(true, true), &row), MailboxState::Failing);
    }

    #[test]
    fn before_any_fetch_the_cursor_is_zero() {
        let shown = status(&account(true, true), None, Utc::now());
        assert_eq!((shown.uid_validity, shown.last_uid), (0, 0));
        assert_eq!(shown.address, "help@example.com");
    }
}
