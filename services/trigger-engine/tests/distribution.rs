//! Distribution within a group: round robin fair across two engine replicas, least loaded by
//! open tickets (also fair across two replicas), and only CTI-present agents.

use std::collections::HashMap;

use futures_util::{StreamExt, stream};
use switchboard_platform::testing;
use switchboard_proto::{
    gateway::v1::{LoginRequest, presence_service_client::PresenceServiceClient},
    trigger::v1::{Action, DistributeAction, DistributionStrategy, action},
};

use crate::common::{Mesh, bearer, rules::*};

/// Each agent's tickets, once `tickets` have an assignee (within `seconds`).
async fn shares_once_assigned(mesh: &Mesh, tickets: i64, seconds: u64) -> HashMap<String, i64> {
    let all_assigned = testing::eventually(std::time::Duration::from_secs(seconds), || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM tickets WHERE assignee_login IS NOT NULL",
        )
        .fetch_one(&mesh.ticket_pool)
        .await
        .unwrap()
            == tickets
    })
    .await;
    assert!(all_assigned, "not every ticket was distributed");
    sqlx::query_as("SELECT assignee_login, count(*) FROM tickets GROUP BY assignee_login")
        .fetch_all(&mesh.ticket_pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// Two engine replicas distributing `tickets` new tickets by `strategy` in a group of `agents`
/// agents, ingested `at_once` at a time: each agent's share.
async fn shares_from_two_replicas(
    strategy: DistributionStrategy,
    agents: usize,
    tickets: usize,
    at_once: usize,
) -> (Vec<String>, HashMap<String, i64>) {
    let mut mesh = Mesh::start().await;
    mesh.add_replica(|_| {}).await;
    let group = mesh.group("상담 1팀").await;
    let mut logins = Vec::new();
    for i in 0..agents {
        let login = format!("d{i}{}", testing::unique_id());
        logins.push(mesh.agent(&login, std::slice::from_ref(&group.id)).await);
    }
    mesh.trigger(
        "새 티켓 배분",
        vec![created()],
        vec![distribute(&group.id, strategy, false)],
    )
    .await;
    let sent = stream::iter(0..tickets)
        .map(|i| {
            let mesh = &mesh;
            async move {
                mesh.ingest(&format!("문의 {i}"), "", &format!("c{i}@example.com"))
                    .await
                    .id
            }
        })
        .buffer_unordered(at_once)
        .collect::<Vec<String>>()
        .await;
    assert_eq!(sent.len(), tickets);
    let shares = shares_once_assigned(&mesh, tickets as i64, 120).await;
    mesh.stop().await;
    (logins, shares)
}

#[tokio::test]
async fn round_robin_over_five_agents_with_two_replicas_gives_each_the_same_share() {
    let (agents, shares) =
        shares_from_two_replicas(DistributionStrategy::RoundRobin, 5, 1_000, 8).await;
    for agent in &agents {
        assert_eq!(shares.get(agent), Some(&200), "shares: {shares:?}");
    }
}

/// Both replicas take events at once: each run must count the runs applied before it,
/// whichever replica applied them, or two would give the same agent one ticket too many.
#[tokio::test]
async fn least_loaded_with_two_replicas_at_once_gives_each_agent_the_same_share() {
    let (agents, shares) =
        shares_from_two_replicas(DistributionStrategy::LeastLoaded, 4, 200, 16).await;
    for agent in &agents {
        assert_eq!(shares.get(agent), Some(&50), "shares: {shares:?}");
    }
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

/// A backlog the engine takes in batches (one replica, one channel): the runs of a batch step
/// round robin one after the other in one session, and a least-loaded run sees the runs before
/// it applied, so both stay even.
#[tokio::test]
async fn a_backlog_taken_in_batches_is_still_distributed_evenly() {
    let mut mesh = Mesh::start().await;
    let turns = mesh.group("순번 배분팀").await;
    let loads = mesh.group("부하 배분팀").await;
    let suffix = testing::unique_id();
    let mut turn_agents = Vec::new();
    for i in 0..5 {
        let login = format!("t{i}{suffix}");
        turn_agents.push(mesh.agent(&login, std::slice::from_ref(&turns.id)).await);
    }
    let mut load_agents = Vec::new();
    for i in 0..3 {
        let login = format!("l{i}{suffix}");
        load_agents.push(mesh.agent(&login, std::slice::from_ref(&loads.id)).await);
    }
    mesh.trigger(
        "순번",
        vec![created(), subject_contains(&["순번"])],
        vec![distribute(
            &turns.id,
            DistributionStrategy::RoundRobin,
            false,
        )],
    )
    .await;
    mesh.trigger(
        "부하",
        vec![created(), subject_contains(&["부하"])],
        vec![distribute(
            &loads.id,
            DistributionStrategy::LeastLoaded,
            false,
        )],
    )
    .await;
    let schema = mesh.schema();
    mesh.pause_engines().await;
    // Interleaved, so that every batch holds runs of both.
    for i in 0..30 {
        mesh.ingest(&format!("순번 {i}"), "", &format!("t{i}@example.com"))
            .await;
        mesh.ingest(&format!("부하 {i}"), "", &format!("l{i}@example.com"))
            .await;
    }
    mesh.resume_engines(&schema, 1, |settings| settings.workers = 1)
        .await;
    let shares = shares_once_assigned(&mesh, 60, 60).await;
    for agent in &turn_agents {
        assert_eq!(shares.get(agent), Some(&6), "round robin: {shares:?}");
    }
    for agent in &load_agents {
        assert_eq!(shares.get(agent), Some(&10), "least loaded: {shares:?}");
    }
    mesh.stop().await;
}

/// A round robin bounded by open tickets weighs the loads, so in a batch it runs alone after
/// the runs before it, and only then steps the cursor: a pick made without the loads never
/// moves it. `a` holds two open tickets (the bound), so the two queued tickets go to `b`, then
/// `c` — not twice to `b`, as a cursor left on the batch's load-blind picks would give.
#[tokio::test]
async fn a_bounded_round_robin_in_a_batch_steps_the_cursor_where_the_ticket_went() {
    let mut mesh = Mesh::start().await;
    let group = mesh.group("상한 배분팀").await;
    let suffix = testing::unique_id();
    let mut agents = Vec::new();
    for name in ["a", "b", "c"] {
        let login = format!("{name}{suffix}");
        agents.push(mesh.agent(&login, std::slice::from_ref(&group.id)).await);
    }
    for i in 0..2 {
        let ticket = mesh
            .ingest(&format!("기존 {i}"), "", "old@example.com")
            .await;
        mesh.take(&agents[0], &ticket.id, &group.id).await;
    }
    mesh.trigger(
        "상한 순번",
        vec![created(), subject_contains(&["새 문의"])],
        vec![Action {
            action: Some(action::Action::Distribute(DistributeAction {
                group_id: group.id.clone(),
                strategy: DistributionStrategy::RoundRobin as i32,
                max_open_tickets: 2,
                ..Default::default()
            })),
        }],
    )
    .await;
    let schema = mesh.schema();
    mesh.pause_engines().await;
    for i in 0..2 {
        mesh.ingest(&format!("새 문의 {i}"), "", &format!("n{i}@example.com"))
            .await;
    }
    mesh.resume_engines(&schema, 1, |settings| settings.workers = 1)
        .await;
    let shares = shares_once_assigned(&mesh, 4, 60).await;
    assert_eq!(shares.get(&agents[0]), Some(&2), "shares: {shares:?}");
    assert_eq!(shares.get(&agents[1]), Some(&1), "shares: {shares:?}");
    assert_eq!(shares.get(&agents[2]), Some(&1), "shares: {shares:?}");
    mesh.stop().await;
}
