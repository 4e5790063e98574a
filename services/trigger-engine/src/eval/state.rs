//! What one evaluation works on: the ticket as changed so far, the change log, and the event's
//! texts normalised at most once (on first use, so triggers that never read them cost nothing).

use std::{
    cell::{OnceCell, RefCell},
    collections::{BTreeMap, HashMap},
};

use switchboard_platform::text::normalise;
use switchboard_proto::ticket::v1::Ticket;

use super::{
    changed::ChangeLog,
    fields::Watched,
    run::{Context, Event},
};

pub(super) struct State<'a> {
    /// The ticket as the triggers fired so far left it.
    pub ticket: Ticket,
    pub original: &'a Ticket,
    pub event: &'a Event<'a>,
    pub context: &'a Context,
    pub changes: ChangeLog<'a>,
    /// Group id → login picked by round robin in this run; the cursor for later picks.
    pub round_robin_used: BTreeMap<String, String>,
    // Triggers change none of these, so the ticket as given is their source.
    subject: OnceCell<String>,
    body: OnceCell<String>,
    external_channel: OnceCell<String>,
    requester_email: OnceCell<String>,
    customer_fields: OnceCell<HashMap<&'a str, String>>,
    /// Schedule id → whether the event time is within it (`None`: unknown schedule).
    schedules: RefCell<HashMap<String, Option<bool>>>,
}

impl<'a> State<'a> {
    pub fn new(ticket: &'a Ticket, event: &'a Event<'a>, context: &'a Context) -> Self {
        Self {
            ticket: ticket.clone(),
            original: ticket,
            event,
            context,
            changes: ChangeLog::new(event.update_type, event.changes, ticket),
            round_robin_used: BTreeMap::new(),
            subject: OnceCell::new(),
            body: OnceCell::new(),
            external_channel: OnceCell::new(),
            requester_email: OnceCell::new(),
            customer_fields: OnceCell::new(),
            schedules: RefCell::new(HashMap::new()),
        }
    }

    pub fn subject(&self) -> &str {
        self.subject
            .get_or_init(|| normalise(&self.original.subject))
    }

    pub fn body(&self) -> &str {
        self.body.get_or_init(|| normalise(self.event.body))
    }

    pub fn external_channel(&self) -> &str {
        self.external_channel
            .get_or_init(|| normalise(self.original.external_channel.trim()))
    }

    /// The requester's address, normalised; "" when there is none.
    pub fn requester_email(&self) -> &str {
        self.requester_email.get_or_init(|| {
            let email = self.original.requester.as_ref().map_or("", |r| &r.email);
            normalise(email.trim())
        })
    }

    /// The customer field's value, trimmed and normalised; `None` when absent or blank.
    pub fn customer_field(&self, key: &str) -> Option<&str> {
        let fields = self.customer_fields.get_or_init(|| {
            self.original
                .customer_fields
                .iter()
                .map(|(key, value)| (key.as_str(), normalise(value.trim())))
                .filter(|(_, value)| !value.is_empty())
                .collect()
        });
        fields.get(key).map(String::as_str)
    }

    /// Whether the event happened within the schedule; `None` when the schedule is unknown.
    pub fn within(&self, schedule_id: &str) -> Option<bool> {
        if let Some(known) = self.schedules.borrow().get(schedule_id) {
            return *known;
        }
        let within = self
            .context
            .schedules
            .get(schedule_id)
            .map(|schedule| schedule(self.event.time));
        self.schedules
            .borrow_mut()
            .insert(schedule_id.to_owned(), within);
        within
    }

    /// The field's value now.
    pub fn value(&self, field: Watched) -> &str {
        field.value(&self.ticket)
    }

    /// The field's value before the event.
    pub fn before(&self, field: Watched) -> &str {
        self.changes.before(field, self.original)
    }
}
