//! The table agrees with the `.proto` files: every payload whose comment names a routing key is
//! in the table with that key and the aggregate its comment (or its file's) names, and the table
//! holds nothing else.

use std::{collections::BTreeSet, fs, path::Path};

use super::{ALL, Event, UnpackError, v1};

/// (message, event type, aggregate type).
type Documented = (String, String, String);

#[test]
fn the_table_holds_what_the_protos_document() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("switchboard/events/v1");
    let mut documented = BTreeSet::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "proto") {
            let text = fs::read_to_string(&path).unwrap();
            let events = documented_in(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            documented.extend(events);
        }
    }
    let table: BTreeSet<Documented> = ALL
        .iter()
        .map(|kind| {
            let (message, event_type, aggregate) =
                (kind.message, kind.event_type, kind.aggregate_type);
            (message.into(), event_type.into(), aggregate.into())
        })
        .collect();
    assert_eq!(table.len(), ALL.len(), "a message is in the table twice");
    let missing: Vec<_> = documented.difference(&table).collect();
    let undocumented: Vec<_> = table.difference(&documented).collect();
    assert!(
        missing.is_empty() && undocumented.is_empty(),
        "documented but not in the table: {missing:?}; in the table but not documented: {undocumented:?}"
    );
}

#[test]
fn each_family_binding_covers_its_event_types_and_they_are_distinct() {
    let mut event_types = BTreeSet::new();
    for kind in ALL {
        let (prefix, event) = kind.event_type.split_once('.').unwrap();
        // `*` matches one word: the event part must not hold another dot.
        assert!(!event.is_empty() && !event.contains('.'), "{kind:?}");
        assert_eq!(kind.family_binding, format!("{prefix}.*"), "{kind:?}");
        assert!(event_types.insert(kind.event_type), "{kind:?} twice");
    }
}

#[test]
fn an_envelope_unpacks_only_its_own_payload() {
    let assigned = v1::CallbackAssigned::default();
    let mut envelope = v1::EventEnvelope {
        event_type: v1::CallbackAssigned::EVENT_TYPE.into(),
        payload: Some(prost_types::Any::from_msg(&assigned).unwrap()),
        ..Default::default()
    };
    assert!(envelope.is::<v1::CallbackAssigned>());
    assert!(!envelope.is::<v1::CallbackCompleted>());
    assert_eq!(envelope.unpack::<v1::CallbackAssigned>(), Ok(assigned));
    let wrong = envelope.unpack::<v1::CallbackCompleted>().unwrap_err();
    let expected = format!(
        "{} payload is not a switchboard.events.v1.CallbackCompleted",
        v1::CallbackAssigned::EVENT_TYPE
    );
    assert!(wrong.to_string().starts_with(&expected), "{wrong}");
    envelope.payload = None;
    assert_eq!(
        envelope.unpack::<v1::CallbackAssigned>(),
        Err(UnpackError::NoPayload {
            event_type: v1::CallbackAssigned::EVENT_TYPE.into()
        })
    );
}

/// The events one `.proto` file documents: each top-level message whose comment begins
/// "Routing key `…`", with the aggregate its comment names (`aggregate_type` "…", or "Envelope
/// as for `Other`"), else the one the file's opening comment names for all its events.
fn documented_in(text: &str) -> Result<Vec<Documented>, String> {
    let mut file_aggregate = None;
    let mut messages = Vec::new();
    let mut comment = String::new();
    for line in text.lines() {
        if let Some(words) = line.strip_prefix("//") {
            comment.push(' ');
            comment.push_str(words.trim());
            continue;
        }
        if let Some(name) = line
            .strip_prefix("message ")
            .and_then(|rest| rest.split_whitespace().next())
        {
            messages.push((name.to_owned(), std::mem::take(&mut comment)));
        } else if !comment.is_empty() {
            // A comment on its own (the file's) or on an enum.
            file_aggregate = file_aggregate.or_else(|| named_aggregate(&comment));
            comment.clear();
        }
    }

    let mut events: Vec<Documented> = Vec::new();
    for (name, comment) in &messages {
        let Some(event_type) = comment
            .trim()
            .strip_prefix("Routing key `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(key, _)| key.to_owned())
        else {
            continue;
        };
        let aggregate = named_aggregate(comment)
            .or_else(|| {
                let other = between(comment, "Envelope as for `", "`")?;
                let (_, _, aggregate) = events.iter().find(|(message, ..)| message == other)?;
                Some(aggregate.clone())
            })
            .or_else(|| file_aggregate.clone())
            .ok_or_else(|| format!("{name} names no aggregate"))?;
        events.push((name.clone(), event_type, aggregate));
    }
    Ok(events)
}

fn named_aggregate(comment: &str) -> Option<String> {
    between(comment, "`aggregate_type` \"", "\"").map(str::to_owned)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let (_, rest) = text.split_once(start)?;
    rest.split_once(end).map(|(inner, _)| inner)
}
