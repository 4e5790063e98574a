//! Reply templates (템플릿) through the gateway: placeholders checked when saved, agents limited
//! to the active templates of their groups and of every group.

use prost_types::FieldMask;
use switchboard_gateway::testing::bearer;
use switchboard_proto::ticket::v1::*;
use tonic::{Code, Status};

use crate::common::{
    Mesh,
    catalog_clients::{invalid, refused},
};

const BODY: &str = "{{requester.name}}님, 안녕하세요.\n문의 {{ ticket.number }} 답변드립니다.\n{{agent.name}} 드림";

fn template(name: &str, groups: &[&str]) -> Template {
    Template {
        name: name.into(),
        subject: "[{{ticket.number}}] {{ticket.subject}}".into(),
        body: BODY.into(),
        group_ids: groups.iter().map(|g| g.to_string()).collect(),
        ..Default::default()
    }
}

async fn create(mesh: &Mesh, request_id: &str, template: Template) -> Result<Template, Status> {
    mesh.templates()
        .await
        .create_template(bearer(
            CreateTemplateRequest {
                request_id: request_id.into(),
                template: Some(template),
            },
            &mesh.admin(),
        ))
        .await
        .map(|r| r.into_inner().template.unwrap())
}

async fn update(mesh: &Mesh, template: Template, paths: &[&str]) -> Result<Template, Status> {
    mesh.templates()
        .await
        .update_template(bearer(
            UpdateTemplateRequest {
                template: Some(template),
                update_mask: Some(FieldMask {
                    paths: paths.iter().map(|p| p.to_string()).collect(),
                }),
            },
            &mesh.admin(),
        ))
        .await
        .map(|r| r.into_inner().template.unwrap())
}

async fn list(mesh: &Mesh, token: &str, request: ListTemplatesRequest) -> ListTemplatesResponse {
    mesh.templates()
        .await
        .list_templates(bearer(request, token))
        .await
        .unwrap()
        .into_inner()
}

fn names(response: &ListTemplatesResponse) -> Vec<&str> {
    response.templates.iter().map(|t| t.name.as_str()).collect()
}

#[tokio::test]
async fn templates_are_saved_in_korean_with_known_placeholders_only() {
    let mesh = Mesh::start().await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let created = create(&mesh, &request_id, template(" 배송 지연 안내 ", &[]))
        .await
        .unwrap();
    assert_eq!(created.name, "배송 지연 안내");
    assert_eq!(created.body, BODY, "the body round-trips exactly");
    assert!(created.active);
    let retried = create(&mesh, &request_id, template(" 배송 지연 안내 ", &[]))
        .await
        .unwrap();
    assert_eq!(retried, created);
    refused(
        create(&mesh, &request_id, template("다른 이름", &[])).await,
        Code::AlreadyExists,
    );
    let taken = refused(
        create(&mesh, "", template("배송 지연 안내", &[])).await,
        Code::AlreadyExists,
    );
    assert!(taken.message().contains("template.name"), "{taken:?}");

    // Unknown placeholders are refused, naming the field and the placeholder.
    let mut bad = template("잘못된 템플릿", &["그룹"]);
    bad.body = "안녕하세요 {{ requester.phone }}".into();
    let status = invalid(
        create(&mesh, "", bad).await,
        &["template.body", "template.group_ids[0]"],
    );
    assert!(status.message().contains("requester.phone"), "{status:?}");
    let nobody = uuid::Uuid::new_v4().to_string();
    let status = invalid(
        create(&mesh, "", template("없는 그룹", &[&nobody])).await,
        &["template.group_ids[0]"],
    );
    assert!(status.message().contains("no such group"), "{status:?}");
    let mut bad_subject = template("잘못된 제목", &[]);
    bad_subject.subject = "{{ticket.secret}} 안내".into();
    let status = invalid(create(&mesh, "", bad_subject).await, &["template.subject"]);
    assert!(status.message().contains("ticket.secret"), "{status:?}");
    let empty = Template {
        name: String::new(),
        body: "  ".into(),
        ..Default::default()
    };
    invalid(
        create(&mesh, "", empty).await,
        &["template.name", "template.body"],
    );

    // Updates change only the masked fields, under the same checks.
    let changed = update(
        &mesh,
        Template {
            id: created.id.clone(),
            body: "{{group.name}}에서 다시 안내드립니다.".into(),
            name: "무시되는 이름".into(),
            ..Default::default()
        },
        &["body"],
    )
    .await
    .unwrap();
    assert_eq!(changed.name, "배송 지연 안내");
    assert_eq!(changed.body, "{{group.name}}에서 다시 안내드립니다.");
    assert_eq!(changed.subject, created.subject);
    let unknown = update(
        &mesh,
        Template {
            id: created.id.clone(),
            body: "{{customer.grade}}".into(),
            ..Default::default()
        },
        &["body"],
    )
    .await;
    invalid(unknown, &["template.body"]);
    invalid(
        update(
            &mesh,
            Template {
                id: created.id.clone(),
                ..Default::default()
            },
            &[],
        )
        .await,
        &["update_mask"],
    );
    invalid(
        update(
            &mesh,
            Template {
                id: created.id.clone(),
                ..Default::default()
            },
            &["id"],
        )
        .await,
        &["update_mask"],
    );
    refused(
        update(
            &mesh,
            Template {
                id: uuid::Uuid::new_v4().to_string(),
                active: false,
                ..Default::default()
            },
            &["active"],
        )
        .await,
        Code::NotFound,
    );
    mesh.stop().await;
}

#[tokio::test]
async fn agents_see_the_active_templates_of_their_groups_and_of_all() {
    let mesh = Mesh::start().await;
    let sales = mesh.gateway.create_group("영업팀").await.id;
    let support = mesh.gateway.create_group("지원팀").await.id;
    let everyone = create(&mesh, "", template("공통 인사", &[])).await.unwrap();
    let ours = create(&mesh, "", template("영업 안내", &[&sales]))
        .await
        .unwrap();
    let theirs = create(&mesh, "", template("지원 안내", &[&support]))
        .await
        .unwrap();
    let retired = create(&mesh, "", template("영업 옛 안내", &[&sales]))
        .await
        .unwrap();
    update(
        &mesh,
        Template {
            id: retired.id.clone(),
            active: false,
            ..Default::default()
        },
        &["active"],
    )
    .await
    .unwrap();

    let agent = mesh.token(&mesh.agent("park", std::slice::from_ref(&sales)).await);
    let seen = list(&mesh, &agent, ListTemplatesRequest::default()).await;
    assert_eq!(names(&seen), ["공통 인사", "영업 안내"]);
    assert_eq!(seen.total_size, 2);
    let mut client = mesh.templates().await;
    for hidden in [&theirs.id, &retired.id] {
        let got = client
            .get_template(bearer(
                GetTemplateRequest {
                    template_id: hidden.clone(),
                },
                &agent,
            ))
            .await;
        refused(got, Code::NotFound);
    }
    let got = client
        .get_template(bearer(
            GetTemplateRequest {
                template_id: ours.id.clone(),
            },
            &agent,
        ))
        .await
        .unwrap()
        .into_inner()
        .template
        .unwrap();
    assert_eq!(got, ours);
    let written = client
        .create_template(bearer(
            CreateTemplateRequest {
                request_id: String::new(),
                template: Some(template("상담원 템플릿", &[])),
            },
            &agent,
        ))
        .await;
    refused(written, Code::PermissionDenied);
    let deleted = client
        .delete_template(bearer(
            DeleteTemplateRequest {
                template_id: everyone.id.clone(),
            },
            &agent,
        ))
        .await;
    refused(deleted, Code::PermissionDenied);

    // Admins see every template, filtered by group, in pages by name.
    let admin = mesh.admin();
    let for_support = list(
        &mesh,
        &admin,
        ListTemplatesRequest {
            group_id: support.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(names(&for_support), ["공통 인사", "지원 안내"]);
    let first = list(
        &mesh,
        &admin,
        ListTemplatesRequest {
            page_size: 3,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(names(&first), ["공통 인사", "영업 안내", "영업 옛 안내"]);
    assert_eq!(first.total_size, 4);
    let rest = list(
        &mesh,
        &admin,
        ListTemplatesRequest {
            page_size: 3,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(names(&rest), ["지원 안내"]);
    assert_eq!(rest.next_page_token, "");
    let bad_group = client
        .list_templates(bearer(
            ListTemplatesRequest {
                group_id: "영업팀".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await;
    invalid(bad_group, &["group_id"]);

    // Deleted: gone for everyone.
    client
        .delete_template(bearer(
            DeleteTemplateRequest {
                template_id: everyone.id.clone(),
            },
            &admin,
        ))
        .await
        .unwrap();
    let again = client
        .delete_template(bearer(
            DeleteTemplateRequest {
                template_id: everyone.id.clone(),
            },
            &admin,
        ))
        .await;
    refused(again, Code::NotFound);
    mesh.stop().await;
}

#[tokio::test]
async fn a_korean_template_renders_for_a_ticket_the_agent_sees() {
    let mesh = Mesh::start().await;
    let support = mesh.group("지원팀").await.id;
    let other = mesh.group("영업팀").await.id;
    let ours = create(&mesh, "", template("답변 인사", &[&support]))
        .await
        .unwrap();
    let no_subject = create(
        &mesh,
        "",
        Template {
            subject: String::new(),
            ..template("제목 없음", &[])
        },
    )
    .await
    .unwrap();
    let theirs = create(&mesh, "", template("영업 인사", &[&other]))
        .await
        .unwrap();
    let login = mesh.agent("park", std::slice::from_ref(&support)).await;
    let agent = mesh.token(&login);
    let ticket = mesh
        .create(&mesh.admin(), &support, "배송 문의")
        .await
        .unwrap();
    let hidden_ticket = mesh
        .create(&mesh.admin(), &other, "영업 문의")
        .await
        .unwrap();
    let mut client = mesh.templates().await;
    let render = |template_id: &str, ticket_id: &str| RenderTemplateRequest {
        template_id: template_id.into(),
        ticket_id: ticket_id.into(),
    };

    let rendered = client
        .render_template(bearer(render(&ours.id, &ticket.id), &agent))
        .await
        .unwrap()
        .into_inner();
    let number = format!("#{}", ticket.number);
    assert_eq!(rendered.subject, format!("[{number}] 배송 문의"));
    assert_eq!(
        rendered.body,
        format!("김민수님, 안녕하세요.\n문의 {number} 답변드립니다.\n상담원 park 드림")
    );
    let plain = client
        .render_template(bearer(render(&no_subject.id, &ticket.id), &agent))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(plain.subject, "배송 문의", "no subject: the ticket's");

    // Another group's template or ticket answers as one that does not exist.
    for (template_id, ticket_id) in [(&theirs.id, &ticket.id), (&ours.id, &hidden_ticket.id)] {
        let result = client
            .render_template(bearer(render(template_id, ticket_id), &agent))
            .await;
        refused(result, Code::NotFound);
    }
    let bad = client
        .render_template(bearer(render("x", "y"), &agent))
        .await;
    invalid(bad, &["template_id", "ticket_id"]);
    mesh.stop().await;
}
