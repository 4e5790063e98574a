//! What a ticket report asks: its filter and breakdown, validated (see `api::tickets`).

/// How a report's rows are broken down besides the buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    None,
    Channel,
    Group,
    Agent,
    InquiryType,
    MailAccount,
}

/// Which tickets count: each non-empty list keeps the tickets with one of its values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// `TicketChannel` values.
    pub channels: Vec<i16>,
    pub group_ids: Vec<String>,
    pub agent_logins: Vec<String>,
    pub inquiry_type_ids: Vec<String>,
    pub mail_account_ids: Vec<String>,
}

/// Which duration the times report measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    FirstReply,
    FirstResolution,
    FinalResolution,
}

impl Measure {
    pub const ALL: [Measure; 3] = [
        Measure::FirstReply,
        Measure::FirstResolution,
        Measure::FinalResolution,
    ];
}
