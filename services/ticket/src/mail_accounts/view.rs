//! What callers see of an account: never its secret references (mail_account.proto), and
//! agents only what they need to search and create tickets. Pure.

use switchboard_proto::ticket::v1::MailAccount;

/// The account without its secret references; `secret_set` says whether one is stored.
pub fn redacted(account: &MailAccount) -> MailAccount {
    let mut shown = account.clone();
    if let Some(imap) = &mut shown.imap {
        imap.secret_set = !imap.secret_ref.is_empty();
        imap.secret_ref.clear();
    }
    if let Some(smtp) = &mut shown.smtp {
        smtp.secret_set = !smtp.secret_ref.is_empty();
        smtp.secret_ref.clear();
    }
    shown
}

/// What agents see: `id`, `address`, `display_name` and `active`.
pub fn for_agents(account: &MailAccount) -> MailAccount {
    MailAccount {
        id: account.id.clone(),
        address: account.address.clone(),
        display_name: account.display_name.clone(),
        active: account.active,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use switchboard_proto::ticket::v1::{ImapSettings, SmtpSettings};

    use super::*;

    #[test]
    fn secrets_never_show_and_agents_see_four_fields() {
        let account = MailAccount {
            id: "id".into(),
            address: "help@example.co.kr".into(),
            display_name: "고객센터".into(),
            active: true,
            default_for_replies: true,
            imap: Some(ImapSettings {
                host: "imap".into(),
                secret_ref: "env:IMAP".into(),
                ..Default::default()
            }),
            smtp: Some(SmtpSettings {
                host: "smtp".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let shown = redacted(&account);
        let imap = shown.imap.as_ref().unwrap();
        assert_eq!((imap.secret_ref.as_str(), imap.secret_set), ("", true));
        assert!(!shown.smtp.as_ref().unwrap().secret_set);
        let agent = for_agents(&account);
        assert_eq!(agent.imap, None);
        assert_eq!(agent.smtp, None);
        assert!(!agent.default_for_replies);
        assert_eq!(agent.display_name, "고객센터");
    }
}
