//! The directory: admins change agents and groups (idempotently, with every field checked and
//! every change published), agents see themselves and their colleagues, lists page stably, and
//! the last admin cannot be removed.

use crate::common::{ADMIN, EventTap, Harness, bearer};
use switchboard_platform::error::violated_fields;
use switchboard_proto::{
    events::{
        Event,
        v1::{AgentChanged, AgentDeleted, ApiKeyCreated, GroupChanged},
    },
    gateway::v1::{
        Agent, AgentRole, CreateAgentRequest, DeleteAgentRequest, DeleteGroupRequest,
        ListAgentsRequest, UpdateAgentRequest,
    },
};
use tonic::Code;

fn agent(login: &str, groups: &[String]) -> Agent {
    Agent {
        login: login.into(),
        display_name: format!("상담원 {login}"),
        role: AgentRole::Agent as i32,
        permissions: vec!["phone".into()],
        group_ids: groups.to_vec(),
        ..Default::default()
    }
}

async fn logins(
    harness: &Harness,
    credential: &str,
    request: ListAgentsRequest,
) -> (Vec<String>, String, i32) {
    let page = harness
        .directory()
        .await
        .list_agents(bearer(request, credential))
        .await
        .unwrap()
        .into_inner();
    (
        page.agents.into_iter().map(|a| a.login).collect(),
        page.next_page_token,
        page.total_size,
    )
}

#[tokio::test]
async fn agents_and_groups_are_managed_by_admins_and_read_by_role() {
    let harness = Harness::start(Vec::new()).await;
    let tap = EventTap::start(&harness, &[AgentChanged::FAMILY_BINDING]).await;
    let admin = harness.token(ADMIN);
    let team_a = harness.create_group("상담 1팀").await.id;
    let team_b = harness.create_group("상담 2팀").await.id;
    let mut directory = harness.directory().await;

    // Bad input names every field, and writes nothing.
    let mut bad = agent("Bad Login!", &[team_a.clone(), team_a.clone()]);
    bad.role = 0;
    bad.permissions.push("fly".into());
    let status = directory
        .create_agent(bearer(
            CreateAgentRequest {
                agent: Some(bad),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        [
            "agent.login",
            "agent.role",
            "agent.permissions[1]",
            "agent.group_ids[1]"
        ]
    );

    // A group that does not exist is named too.
    let unknown_group = uuid::Uuid::new_v4().to_string();
    let status = directory
        .create_agent(bearer(
            CreateAgentRequest {
                agent: Some(agent("nam", &[team_a.clone(), unknown_group])),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["agent.group_ids[1]"]);

    // Idempotent by request id: a retry returns the first result; reuse with another body fails.
    let request_id = uuid::Uuid::new_v4().to_string();
    let create = |login: &str| CreateAgentRequest {
        agent: Some(agent(login, std::slice::from_ref(&team_a))),
        request_id: request_id.clone(),
    };
    let first = directory
        .create_agent(bearer(create("Kim"), &admin))
        .await
        .unwrap()
        .into_inner();
    let retry = directory
        .create_agent(bearer(create("Kim"), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, retry);
    assert_eq!(first.agent.unwrap().login, "kim", "logins are lowercased");
    let status = directory
        .create_agent(bearer(create("lee"), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");

    for (login, groups) in [
        ("lee", vec![team_a.clone()]),
        ("park", vec![team_b.clone()]),
        ("choi", vec![team_a.clone(), team_b.clone()]),
        ("jung", vec![]),
    ] {
        harness
            .create_agent(login, AgentRole::Agent, &["phone"], &groups)
            .await;
    }

    // Admins page through everyone; a token only continues the same filters.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let (page, next, total) = logins(
            &harness,
            &admin,
            ListAgentsRequest {
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(total, 6, "refused creations wrote nothing");
        assert!(page.len() <= 2);
        seen.extend(page);
        if next.is_empty() {
            break;
        }
        token = next;
    }
    assert_eq!(seen, ["admin", "choi", "jung", "kim", "lee", "park"]);
    let (_, token, _) = logins(
        &harness,
        &admin,
        ListAgentsRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await;
    let status = harness
        .directory()
        .await
        .list_agents(bearer(
            ListAgentsRequest {
                page_size: 2,
                page_token: token,
                group_id: team_a.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["page_token"]);

    // Filters.
    let (in_a, _, _) = logins(
        &harness,
        &admin,
        ListAgentsRequest {
            group_id: team_a.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(in_a, ["choi", "kim", "lee"]);

    // An agent sees active colleagues only, whatever they ask for.
    let (colleagues, _, _) = logins(
        &harness,
        &harness.token("kim"),
        ListAgentsRequest {
            show_disabled: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(colleagues, ["choi", "kim", "lee"]);
    let (colleagues, _, _) = logins(
        &harness,
        &harness.token("jung"),
        ListAgentsRequest::default(),
    )
    .await;
    assert!(
        colleagues.is_empty(),
        "an agent without groups has no colleagues"
    );
    // A service with directory:read sees everyone.
    let (_, reader) = harness
        .create_api_key("ticket-svc", &["directory:read"])
        .await;
    let (everyone, _, _) = logins(&harness, &reader, ListAgentsRequest::default()).await;
    assert_eq!(everyone.len(), 6);

    // Deleted logins are never reused; groups with members cannot be deleted.
    directory
        .delete_agent(bearer(
            DeleteAgentRequest {
                login: "jung".into(),
            },
            &admin,
        ))
        .await
        .unwrap();
    let status = directory
        .create_agent(bearer(
            CreateAgentRequest {
                agent: Some(agent("jung", &[])),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    let status = directory
        .delete_group(bearer(DeleteGroupRequest { id: team_b.clone() }, &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    // The last active admin cannot be demoted, disabled or deleted.
    let demote = UpdateAgentRequest {
        agent: Some(Agent {
            login: ADMIN.into(),
            role: AgentRole::Agent as i32,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["role".into()],
        }),
    };
    let status = directory
        .update_agent(bearer(demote.clone(), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let status = directory
        .delete_agent(bearer(
            DeleteAgentRequest {
                login: ADMIN.into(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    // With a second admin it can.
    let promote = UpdateAgentRequest {
        agent: Some(Agent {
            login: "choi".into(),
            role: AgentRole::Admin as i32,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["role".into()],
        }),
    };
    directory
        .update_agent(bearer(promote, &admin))
        .await
        .unwrap();
    directory
        .update_agent(bearer(demote, &admin))
        .await
        .unwrap();
    // ...and the demoted admin's own token now carries the agent role.
    let status = directory
        .delete_agent(bearer(
            DeleteAgentRequest {
                login: "kim".into(),
            },
            &harness.token(ADMIN),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Every change was published.
    let created = tap
        .wait_for("kim created", |e| {
            e.event_type == AgentChanged::EVENT_TYPE && e.aggregate_id == "kim"
        })
        .await;
    assert_eq!(created.aggregate_version, 1);
    tap.wait_for("jung deleted", |e| {
        e.event_type == AgentDeleted::EVENT_TYPE && e.aggregate_id == "jung"
    })
    .await;
    tap.wait_for("a group created", |e| {
        e.event_type == GroupChanged::EVENT_TYPE && e.aggregate_id == team_a
    })
    .await;
    tap.wait_for("an API key created", |e| {
        e.event_type == ApiKeyCreated::EVENT_TYPE
    })
    .await;
    tap.wait_for("admin demoted", |e| {
        e.event_type == AgentChanged::EVENT_TYPE
            && e.aggregate_id == ADMIN
            && e.aggregate_version == 2
    })
    .await;
    harness.stop().await;
}
