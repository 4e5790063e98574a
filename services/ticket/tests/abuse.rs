//! What an agent of another group, an agent calling admin rpcs, and a caller without the
//! right scope get: nothing of the ticket, and the same answer whether or not it exists.

use switchboard_proto::ticket::v1::{
    CreateTicketRequest, GetTicketRequest, ListRequesterTicketsRequest, ListTicketEventsRequest,
    ListTicketMessagesRequest, ReplyDisposition, ResolutionReason, Ticket, TicketPriority,
    TicketRequester,
};
use tonic::Code;

use crate::common::{Mesh, bearer};

#[tokio::test]
async fn an_agent_of_another_group_gets_not_found_exactly_as_for_a_missing_ticket() {
    let mesh = Mesh::start().await;
    mesh.reply_account("help@example.co.kr").await;
    let a = mesh.group("A팀").await.id;
    let b = mesh.group("B팀").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&a)).await;
    let lee = mesh.agent("lee", std::slice::from_ref(&b)).await;
    let theirs = mesh
        .create(&mesh.token(&lee), &b, "B팀 문의")
        .await
        .unwrap();
    mesh.take(&mesh.token(&lee), &theirs.id).await.unwrap();
    let missing = uuid::Uuid::now_v7().to_string();
    let token = mesh.token(&kim);
    for id in [theirs.id.as_str(), missing.as_str()] {
        let mut codes = Vec::new();
        codes.push(mesh.get(&token, id).await.unwrap_err());
        codes.push(mesh.take(&token, id).await.unwrap_err());
        codes.push(
            mesh.reply(&token, id, ReplyDisposition::Solve, "x")
                .await
                .unwrap_err(),
        );
        codes.push(mesh.comment(&token, id, "x").await.unwrap_err());
        codes.push(
            mesh.resolve(&token, id, ResolutionReason::Spam)
                .await
                .unwrap_err(),
        );
        codes.push(mesh.restore(&token, id).await.unwrap_err());
        codes.push(mesh.delete(&token, id).await.unwrap_err());
        codes.push(
            mesh.set_priority(&token, id, TicketPriority::Urgent as i32)
                .await
                .unwrap_err(),
        );
        let client = &mut mesh.tickets().await;
        codes.push(
            client
                .list_ticket_messages(bearer(
                    ListTicketMessagesRequest {
                        ticket_id: id.into(),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap_err(),
        );
        codes.push(
            client
                .list_ticket_events(bearer(
                    ListTicketEventsRequest {
                        ticket_id: id.into(),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap_err(),
        );
        codes.push(
            client
                .list_requester_tickets(bearer(
                    ListRequesterTicketsRequest {
                        ticket_id: id.into(),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap_err(),
        );
        for status in codes {
            assert_eq!(status.code(), Code::NotFound, "{id}: {status:?}");
            assert_eq!(status.message(), "ticket not found");
        }
    }
    // Nothing changed on their ticket.
    let after = mesh.get(&mesh.admin(), &theirs.id).await.unwrap();
    assert_eq!(after.version, 2);
    mesh.stop().await;
}

#[tokio::test]
async fn previous_inquiries_match_the_e_mail_case_insensitively_within_what_the_caller_sees() {
    let mesh = Mesh::start().await;
    let a = mesh.group("A팀").await.id;
    let b = mesh.group("B팀").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&a)).await;
    let lee = mesh.agent("lee", std::slice::from_ref(&b)).await;
    let create = |token: String, group: String, email: &'static str, subject: &'static str| {
        let mesh = &mesh;
        async move {
            mesh.tickets()
                .await
                .create_ticket(bearer(
                    CreateTicketRequest {
                        ticket: Some(Ticket {
                            subject: subject.into(),
                            group_id: group,
                            requester: Some(TicketRequester {
                                name: "김민수".into(),
                                email: email.into(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }),
                        body: "문의".into(),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
                .ticket
                .unwrap()
        }
    };
    let current = create(mesh.token(&kim), a.clone(), "Kim@Example.com", "지금 문의").await;
    let earlier = create(mesh.token(&kim), a.clone(), "kim@example.com", "예전 문의").await;
    let hidden = create(mesh.token(&lee), b.clone(), "KIM@example.com", "B팀 문의").await;
    let list = |token: String| {
        let mesh = &mesh;
        let id = current.id.clone();
        async move {
            mesh.tickets()
                .await
                .list_requester_tickets(bearer(
                    ListRequesterTicketsRequest {
                        ticket_id: id,
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let seen = list(mesh.token(&kim)).await;
    let ids: Vec<_> = seen.tickets.iter().map(|t| t.id.clone()).collect();
    assert_eq!(
        ids,
        std::slice::from_ref(&earlier.id),
        "kim does not see B's ticket"
    );
    assert_eq!(seen.total_size, 1);
    let all = list(mesh.admin()).await;
    let ids: Vec<_> = all.tickets.iter().map(|t| t.id.clone()).collect();
    assert_eq!(
        ids,
        [hidden.id, earlier.id],
        "newest first, the ticket itself left out"
    );
    mesh.stop().await;
}

#[tokio::test]
async fn agents_calling_admin_rpcs_and_creating_outside_their_groups_are_denied() {
    let mesh = Mesh::start().await;
    let a = mesh.group("A팀").await.id;
    let b = mesh.group("B팀").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&a)).await;
    let token = mesh.token(&kim);
    let ticket = mesh.create(&token, &a, "문의").await.unwrap();
    let forward = mesh.forward(&token, &ticket.id, &b, "").await.unwrap_err();
    assert_eq!(forward.code(), Code::PermissionDenied);
    let close = mesh.close(&token, &ticket.id).await.unwrap_err();
    assert_eq!(close.code(), Code::PermissionDenied);
    // Another agent of the same group sees the ticket but may not answer for its assignee.
    let park = mesh.agent("park", std::slice::from_ref(&a)).await;
    mesh.take(&token, &ticket.id).await.unwrap();
    let not_theirs = mesh
        .reply(&mesh.token(&park), &ticket.id, ReplyDisposition::Solve, "x")
        .await
        .unwrap_err();
    assert_eq!(not_theirs.code(), Code::PermissionDenied);
    let outside = mesh.create(&token, &b, "남의 그룹").await.unwrap_err();
    assert_eq!(outside.code(), Code::PermissionDenied);
    // A key without `tickets:read` reads nothing; with it, every ticket.
    let (_, plain) = mesh
        .gateway
        .create_api_key("crm", &["callbacks:create"])
        .await;
    let denied = mesh.get(&plain, &ticket.id).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let (_, reader) = mesh
        .gateway
        .create_api_key("crm-reader", &["tickets:read"])
        .await;
    assert_eq!(mesh.get(&reader, &ticket.id).await.unwrap().id, ticket.id);
    let write = mesh.comment(&reader, &ticket.id, "x").await.unwrap_err();
    assert_eq!(write.code(), Code::PermissionDenied);
    // A forged or absent credential never reaches the service.
    let forged = mesh
        .tickets()
        .await
        .get_ticket(bearer(
            GetTicketRequest {
                ticket_id: ticket.id.clone(),
            },
            "not-a-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::Unauthenticated);
    mesh.stop().await;
}
