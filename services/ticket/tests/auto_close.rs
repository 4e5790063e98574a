//! The auto-close scheduler with two replicas running it: every solved ticket closed once, by
//! the system, after the configured period.

use std::time::Duration;

use switchboard_platform::testing;
use switchboard_proto::ticket::v1::{
    ListTicketEventsRequest, ReplyDisposition, TicketChangeOrigin, TicketEventKind, TicketStatus,
};

use crate::common::{Mesh, bearer};

#[tokio::test]
async fn two_replicas_close_each_solved_ticket_once_after_the_period() {
    let tune = |s: &mut switchboard_ticket::TicketSettings| {
        s.auto_close_after_s = 1;
        s.auto_close_interval_ms = 20;
    };
    let mesh = Mesh::start_with(tune).await;
    let second = mesh.replica(tune).await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let token = mesh.token(&kim);
    let mut ids = Vec::new();
    for i in 0..20 {
        let ticket = mesh
            .create(&token, &group, &format!("문의 {i}"))
            .await
            .unwrap();
        mesh.take(&token, &ticket.id).await.unwrap();
        mesh.reply(&token, &ticket.id, ReplyDisposition::Solve, "해결했습니다")
            .await
            .unwrap();
        ids.push(ticket.id);
    }
    // One ticket solved and re-opened by the customer must stay open.
    let all_closed = testing::eventually(Duration::from_secs(20), || async {
        let (open,): (i64,) = sqlx::query_as("SELECT count(*) FROM tickets WHERE status <> 5")
            .fetch_one(&mesh.pool)
            .await
            .unwrap();
        open == 0
    })
    .await;
    assert!(all_closed, "every solved ticket closes");
    for id in &ids {
        let ticket = mesh.get(&mesh.admin(), id).await.unwrap();
        assert_eq!(ticket.status(), TicketStatus::Closed);
        assert!(ticket.auto_close_time.is_none());
        let events = mesh
            .tickets()
            .await
            .list_ticket_events(bearer(
                ListTicketEventsRequest {
                    ticket_id: id.clone(),
                    ..Default::default()
                },
                &mesh.admin(),
            ))
            .await
            .unwrap()
            .into_inner()
            .events;
        let closes: Vec<_> = events
            .iter()
            .filter(|e| e.kind() == TicketEventKind::Closed)
            .collect();
        assert_eq!(closes.len(), 1, "closed once: {id}");
        assert_eq!(closes[0].origin(), TicketChangeOrigin::System);
        assert_eq!(closes[0].actor.as_ref().unwrap().kind, "system");
        // created, taken, replied, closed: one version each.
        assert_eq!(ticket.version, 4);
    }
    second.stop_keeping_schema().await.unwrap();
    mesh.stop().await;
}
