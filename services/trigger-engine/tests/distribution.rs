//! Distribution within a group: round robin fair across two engine replicas, least loaded by
//! open tickets, and only CTI-present agents.

use std::collections::HashMap;

use futures_util::{StreamExt, stream};
use switchboard_platform::testing;
use switchboard_proto::{
    gateway::v1::{LoginRequest, presence_service_client::PresenceServiceClient},
    trigger::v1::DistributionStrategy,
};

use crate::common::{Mesh, bearer, rules::*};

#[tokio::test]
async fn round_robin_over_five_agents_with_two_replicas_gives_each_the_same_share() {
    let mut mesh = Mesh::start().await;
    mesh.add_replica(|_| {}).await;
    let group = mesh.group("상담 1팀").await;
    let mut agents = Vec::new();
    for i in 0..5 {
        let login = format!("rr{i}{}", testing::unique_id());
        agents.push(mesh.agent(&login, std::slice::from_ref(&group.id)).await);
    }
    mesh.trigger(
        "새 티켓 배분",
        vec![created()],
        vec![distribute(
            &group.id,
            DistributionStrategy::RoundRobin,
            false,
        )],
    )
    .await;

    let tickets: Vec<String> = stream::iter(0..1_000)
        .map(|i| {
            let mesh = &mesh;
            async move {
                mesh.ingest(&format!("문의 {i}"), "", &format!("c{i}@example.com"))
                    .await
                    .id
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let all_assigned = testing::eventually(std::time::Duration::from_secs(120), || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM tickets WHERE assignee_login IS NOT NULL",
        )
        .fetch_one(&mesh.ticket_pool)
        .await
        .unwrap()
            == 1_000
    })
    .await;
    assert!(all_assigned, "not every ticket was distributed");
    let shares: HashMap<String, i64> =
        sqlx::query_as("SELECT assignee_login, count(*) FROM tickets GROUP BY assignee_login")
            .fetch_all(&mesh.ticket_pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    for agent in &agents {
        assert_eq!(shares.get(agent), Some(&200), "shares: {shares:?}");
    }
    assert_eq!(tickets.len(), 1_000);
    mesh.stop().await;
}

#[tokio::test]
async fn least_loaded_picks_the_agent_with_fewest_open_tickets_then_by_login() {
    let mesh = Mesh::start().await;
    let group = mesh.group("상담 2팀").await;
    let suffix = testing::unique_id();
    let a = mesh
        .agent(&format!("a{suffix}"), std::slice::from_ref(&group.id))
        .await;
    let b = mesh
        .agent(&format!("b{suffix}"), std::slice::from_ref(&group.id))
        .await;
    let c = mesh
        .agent(&format!("c{suffix}"), std::slice::from_ref(&group.id))
        .await;
    // a holds two open tickets, b one, c none.
    for (login, count) in [(&a, 2), (&b, 1)] {
        for i in 0..count {
            let ticket = mesh
                .ingest(&format!("기존 {i}"), "", "old@example.com")
                .await;
            mesh.take(login, &ticket.id, &group.id).await;
        }
    }
    mesh.trigger(
        "적게 가진 상담원에게",
        vec![created(), subject_contains(&["새 문의"])],
        vec![distribute(
            &group.id,
            DistributionStrategy::LeastLoaded,
            false,
        )],
    )
    .await;

    let first = mesh.ingest("새 문의 1", "", "n1@example.com").await;
    let first = mesh
        .ticket_when(&first.id, "was distributed", |t| {
            !t.assignee_login.is_empty()
        })
        .await;
    assert_eq!(first.assignee_login, c);
    // Now b and c hold one each: the tie goes to b by login.
    let second = mesh.ingest("새 문의 2", "", "n2@example.com").await;
    let second = mesh
        .ticket_when(&second.id, "was distributed", |t| {
            !t.assignee_login.is_empty()
        })
        .await;
    assert_eq!(second.assignee_login, b);
    mesh.stop().await;
}

#[tokio::test]
async fn present_only_distribution_skips_agents_not_logged_in_to_the_cti() {
    let mesh = Mesh::start().await;
    let group = mesh.group("전화 상담").await;
    let suffix = testing::unique_id();
    let away = mesh
        .agent(&format!("a{suffix}"), std::slice::from_ref(&group.id))
        .await;
    let present = mesh
        .agent(&format!("p{suffix}"), std::slice::from_ref(&group.id))
        .await;
    PresenceServiceClient::new(mesh.gateway.channel().await)
        .login(bearer(
            LoginRequest {
                agent_login: String::new(),
                ..Default::default()
            },
            &mesh.gateway.token(&present),
        ))
        .await
        .expect("the agent logs in to the CTI");
    mesh.trigger(
        "접속한 상담원에게",
        vec![created()],
        vec![distribute(
            &group.id,
            DistributionStrategy::RoundRobin,
            true,
        )],
    )
    .await;

    for i in 0..3 {
        let ticket = mesh.ingest(&format!("문의 {i}"), "", "x@example.com").await;
        let ticket = mesh
            .ticket_when(&ticket.id, "was distributed", |t| {
                !t.assignee_login.is_empty()
            })
            .await;
        assert_eq!(ticket.assignee_login, present, "{away} is not logged in");
    }
    mesh.stop().await;
}
