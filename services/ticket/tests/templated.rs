//! Tickets and replies written from a template: Korean text with its placeholders filled for
//! the ticket and the agent, and the request's subject winning over the template's.

use switchboard_proto::ticket::v1::{
    CreateTicketRequest, ReplyDisposition, ReplyTicketRequest, Ticket, TicketRequester,
};
use tonic::Code;

use crate::common::{Mesh, bearer};

/// A template written straight into the service's table (the tests of `TemplateService`
/// cover its rpcs); `groups` empty means every group.
async fn template(mesh: &Mesh, name: &str, subject: &str, body: &str, groups: &[String]) -> String {
    let id = uuid::Uuid::now_v7();
    let groups: Vec<uuid::Uuid> = groups.iter().map(|g| g.parse().unwrap()).collect();
    sqlx::query(
        "INSERT INTO templates (id, name, subject, body, group_ids) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(name)
    .bind(subject)
    .bind(body)
    .bind(&groups)
    .execute(&mesh.pool)
    .await
    .unwrap();
    id.to_string()
}

#[tokio::test]
async fn a_template_fills_korean_text_for_the_ticket_and_the_agent() {
    let mesh = Mesh::start().await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("배송팀").await.id;
    let other = mesh.group("다른팀").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let token = mesh.token(&kim);
    let greeting = template(
        &mesh,
        "배송 안내",
        "{{ requester.name }}님의 배송 문의",
        "{{requester.name}}님, 문의하신 {{ticket.number}} 건은 {{group.name}}에서 처리합니다. - {{agent.name}}",
        &[],
    )
    .await;
    let foreign = template(&mesh, "남의 템플릿", "", "x", std::slice::from_ref(&other)).await;
    let create = |template_id: &str, subject: &str| CreateTicketRequest {
        ticket: Some(Ticket {
            subject: subject.into(),
            group_id: group.clone(),
            requester: Some(TicketRequester {
                name: "이영희".into(),
                email: "younghee@example.com".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        template_id: template_id.into(),
        ..Default::default()
    };
    let created = mesh
        .tickets()
        .await
        .create_ticket(bearer(create(&greeting, ""), &token))
        .await
        .unwrap()
        .into_inner();
    let ticket = created.ticket.unwrap();
    assert_eq!(
        ticket.subject, "이영희님의 배송 문의",
        "the template's subject"
    );
    let body = created.message.unwrap().body_text;
    assert_eq!(
        body,
        format!(
            "이영희님, 문의하신 #{} 건은 배송팀에서 처리합니다. - 상담원 kim",
            ticket.number
        )
    );
    let own = mesh
        .tickets()
        .await
        .create_ticket(bearer(create(&greeting, "직접 쓴 제목"), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        own.ticket.unwrap().subject,
        "직접 쓴 제목",
        "the request's subject wins"
    );
    // A template of another group answers as one that does not exist.
    let refused = mesh
        .tickets()
        .await
        .create_ticket(bearer(create(&foreign, "x"), &token))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("template_id"),
        "{}",
        refused.message()
    );
    // A reply from the template.
    mesh.take(&token, &ticket.id).await.unwrap();
    let reply = mesh
        .tickets()
        .await
        .reply_ticket(bearer(
            ReplyTicketRequest {
                ticket_id: ticket.id.clone(),
                disposition: ReplyDisposition::Solve as i32,
                template_id: greeting.clone(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    assert!(
        reply.body_text.starts_with("이영희님, 문의하신 #"),
        "{}",
        reply.body_text
    );
    assert_eq!(reply.template_id, greeting);
    mesh.stop().await;
}
