//! Condition fields compared as normalised text (NFKC, lower case): external channel, subject,
//! body, requester e-mail and domain, tags and customer fields, with each of their operators.

use switchboard_proto::{
    ticket::v1::TicketRequester,
    trigger::v1::{ConditionField as F, ConditionOperator as O},
};

use super::{Event, test_support::*};

#[test]
fn external_channel_compares_names_case_insensitively() {
    let mut ticket = ticket();
    let event = created();
    ticket.external_channel = "kakaotalk".into();
    assert!(holds(
        values(F::ExternalChannel, O::Is, &["KakaoTalk"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        values(F::ExternalChannel, O::Is, &["line"]),
        &ticket,
        &event
    ));
    assert!(holds(
        values(F::ExternalChannel, O::IsNot, &["line"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        values(F::ExternalChannel, O::IsNot, &["kakaotalk"]),
        &ticket,
        &event
    ));
    ticket.external_channel.clear();
    assert!(!holds(
        values(F::ExternalChannel, O::Is, &["kakaotalk"]),
        &ticket,
        &event
    ));
    assert!(holds(
        values(F::ExternalChannel, O::IsNot, &["kakaotalk"]),
        &ticket,
        &event
    ));
}

#[test]
fn subject_words_match_as_normalised_substrings() {
    let mut ticket = ticket();
    let event = created();
    ticket.subject = "ＲＥＦＵＮＤ: 환불을 요청합니다".into();
    let subject = |operator, words: &[&str]| values(F::Subject, operator, words);
    assert!(holds(subject(O::ContainsAny, &["refund"]), &ticket, &event));
    assert!(holds(
        subject(O::ContainsAny, &["환불", "cancel"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        subject(O::ContainsAny, &["cancel", "배송"]),
        &ticket,
        &event
    ));
    assert!(holds(
        subject(O::ContainsAll, &["Refund", "요청"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        subject(O::ContainsAll, &["refund", "cancel"]),
        &ticket,
        &event
    ));
    assert!(holds(
        subject(O::ContainsNone, &["cancel", "배송"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        subject(O::ContainsNone, &["cancel", "환불"]),
        &ticket,
        &event
    ));
}

#[test]
fn body_words_match_the_events_message() {
    let ticket = ticket();
    let event = Event {
        body: "I was charged TWICE, 환불해 주세요",
        ..created()
    };
    let body = |operator, words: &[&str]| values(F::Body, operator, words);
    assert!(holds(body(O::ContainsAny, &["twice"]), &ticket, &event));
    assert!(!holds(body(O::ContainsAny, &["refund"]), &ticket, &event));
    assert!(holds(
        body(O::ContainsAll, &["charged", "환불"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        body(O::ContainsAll, &["charged", "refund"]),
        &ticket,
        &event
    ));
    assert!(holds(body(O::ContainsNone, &["refund"]), &ticket, &event));
    assert!(!holds(
        body(O::ContainsNone, &["refund", "twice"]),
        &ticket,
        &event
    ));
    // The subject is not the body.
    assert!(!holds(
        body(O::ContainsAny, &["request"]),
        &ticket,
        &created()
    ));
}

#[test]
fn requester_email_compares_case_insensitively() {
    let mut ticket = ticket();
    let event = created();
    let email = |operator, addresses: &[&str]| values(F::RequesterEmail, operator, addresses);
    assert!(holds(email(O::Is, &["Kim@Example.com"]), &ticket, &event));
    assert!(!holds(email(O::Is, &["lee@example.com"]), &ticket, &event));
    assert!(holds(
        email(O::IsNot, &["lee@example.com"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        email(O::IsNot, &["KIM@example.com"]),
        &ticket,
        &event
    ));
    assert!(holds(when(F::RequesterEmail, O::IsSet), &ticket, &event));
    assert!(!holds(
        when(F::RequesterEmail, O::IsNotSet),
        &ticket,
        &event
    ));
    ticket.requester = Some(TicketRequester::default());
    assert!(!holds(when(F::RequesterEmail, O::IsSet), &ticket, &event));
    assert!(holds(when(F::RequesterEmail, O::IsNotSet), &ticket, &event));
}

#[test]
fn requester_domain_matches_the_domain_and_its_subdomains() {
    let mut ticket = ticket();
    let event = created();
    let domain = |operator, domains: &[&str]| values(F::RequesterDomain, operator, domains);
    ticket.requester = Some(TicketRequester {
        email: "kim@mail.example.com".into(),
        ..Default::default()
    });
    assert!(holds(domain(O::Is, &["example.com"]), &ticket, &event));
    assert!(holds(domain(O::Is, &["MAIL.example.com"]), &ticket, &event));
    assert!(!holds(domain(O::Is, &["other.com"]), &ticket, &event));
    assert!(!holds(domain(O::IsNot, &["example.com"]), &ticket, &event));
    assert!(holds(domain(O::IsNot, &["other.com"]), &ticket, &event));
    ticket.requester = Some(TicketRequester {
        email: "kim@badexample.com".into(),
        ..Default::default()
    });
    assert!(!holds(domain(O::Is, &["example.com"]), &ticket, &event));
    assert!(holds(domain(O::IsNot, &["example.com"]), &ticket, &event));
    ticket.requester = None;
    assert!(!holds(domain(O::Is, &["example.com"]), &ticket, &event));
    assert!(holds(domain(O::IsNot, &["example.com"]), &ticket, &event));
}

#[test]
fn tags_match_whole_tags() {
    let mut ticket = ticket();
    let event = created();
    ticket.tags = vec!["vip".into(), "환불".into()];
    let tags = |operator, tags: &[&str]| values(F::Tags, operator, tags);
    assert!(holds(
        tags(O::ContainsAny, &["VIP", "other"]),
        &ticket,
        &event
    ));
    assert!(
        !holds(tags(O::ContainsAny, &["vi", "vip2"]), &ticket, &event),
        "whole tags, not substrings"
    );
    assert!(holds(
        tags(O::ContainsAll, &["vip", "환불"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        tags(O::ContainsAll, &["vip", "other"]),
        &ticket,
        &event
    ));
    assert!(holds(
        tags(O::ContainsNone, &["other", "vi"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        tags(O::ContainsNone, &["other", "vip"]),
        &ticket,
        &event
    ));
}

#[test]
fn customer_field_whole_values_words_and_presence() {
    let mut ticket = ticket();
    let event = created();
    ticket
        .customer_fields
        .insert("plan".into(), " Premium Gold ".into());
    assert!(holds(
        customer("plan", O::Is, &["premium gold"]),
        &ticket,
        &event
    ));
    assert!(
        !holds(customer("plan", O::Is, &["premium"]), &ticket, &event),
        "the whole value"
    );
    assert!(holds(
        customer("plan", O::IsNot, &["premium"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        customer("plan", O::IsNot, &["PREMIUM GOLD"]),
        &ticket,
        &event
    ));
    assert!(holds(
        customer("plan", O::ContainsAny, &["gold", "silver"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        customer("plan", O::ContainsAny, &["silver"]),
        &ticket,
        &event
    ));
    assert!(holds(
        customer("plan", O::ContainsNone, &["silver"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        customer("plan", O::ContainsNone, &["gold"]),
        &ticket,
        &event
    ));
    assert!(holds(customer("plan", O::IsSet, &[]), &ticket, &event));
    assert!(!holds(customer("plan", O::IsNotSet, &[]), &ticket, &event));
    // Another key is not set.
    assert!(!holds(customer("region", O::IsSet, &[]), &ticket, &event));
    assert!(holds(customer("region", O::IsNotSet, &[]), &ticket, &event));
    assert!(!holds(
        customer("region", O::Is, &["seoul"]),
        &ticket,
        &event
    ));
    assert!(holds(
        customer("region", O::IsNot, &["seoul"]),
        &ticket,
        &event
    ));
    assert!(holds(
        customer("region", O::ContainsNone, &["seoul"]),
        &ticket,
        &event
    ));
}
