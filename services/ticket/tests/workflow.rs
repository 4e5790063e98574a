//! The life cycle through the gateway: every action from every status (allowed ones change
//! what the SPEC says, the others are FAILED_PRECONDITION naming the status), re-opening, the
//! spam box and closing.

use switchboard_proto::ticket::v1::{
    ReplyDisposition, ResolutionReason, Ticket, TicketPriority, TicketStatus,
};
use tonic::Code;

use crate::common::Mesh;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Take,
    ForwardToAgent,
    ForwardToGroup,
    ReplySolve,
    ReplyHold,
    Comment,
    ResolveTest,
    ResolveSpam,
    Restore,
    Delete,
    Close,
    Update,
}

const ACTS: [Act; 12] = [
    Act::Take,
    Act::ForwardToAgent,
    Act::ForwardToGroup,
    Act::ReplySolve,
    Act::ReplyHold,
    Act::Comment,
    Act::ResolveTest,
    Act::ResolveSpam,
    Act::Restore,
    Act::Delete,
    Act::Close,
    Act::Update,
];

use TicketStatus::*;

const STATUSES: [TicketStatus; 6] = [Unassigned, InProgress, OnHold, Solved, Closed, Spam];

/// docs/product.md §3.2 as a table: the status after the action, `None` when refused. Spam
/// tickets here went to the box from in progress, so they restore to it.
fn expected(status: TicketStatus, act: Act) -> Option<TicketStatus> {
    let open = matches!(status, Unassigned | InProgress | OnHold | Solved);
    match act {
        Act::Take => (status == Unassigned).then_some(InProgress),
        Act::ForwardToAgent if open => Some(if matches!(status, OnHold | Solved) {
            status
        } else {
            InProgress
        }),
        Act::ForwardToGroup if open => Some(Unassigned),
        Act::ReplySolve => matches!(status, InProgress | OnHold | Solved).then_some(Solved),
        Act::ReplyHold => matches!(status, InProgress | OnHold | Solved).then_some(OnHold),
        Act::Comment => Some(status),
        Act::ResolveTest => matches!(status, Unassigned | InProgress | OnHold).then_some(Solved),
        Act::ResolveSpam => matches!(status, Unassigned | InProgress | OnHold).then_some(Spam),
        Act::Restore => (status == Spam).then_some(InProgress),
        Act::Delete => (status == Spam).then_some(Spam),
        Act::Close if open => Some(Closed),
        Act::Update if open => Some(status),
        _ => None,
    }
}

struct World {
    mesh: Mesh,
    group: String,
    kim: String,
    admin: String,
}

impl World {
    async fn start() -> Self {
        let mesh = Mesh::start().await;
        mesh.reply_account("help@example.co.kr").await;
        let group = mesh.group("결제").await.id;
        let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
        let admin = mesh.admin();
        Self {
            mesh,
            group,
            kim,
            admin,
        }
    }

    fn kim(&self) -> String {
        self.mesh.token(&self.kim)
    }

    /// A new ticket brought to `status` by the shortest path.
    async fn ticket_in(&self, status: TicketStatus) -> Ticket {
        let m = &self.mesh;
        let ticket = m
            .create(&self.kim(), &self.group, "환불 문의")
            .await
            .unwrap();
        let id = ticket.id.clone();
        let ticket = match status {
            Unassigned => ticket,
            InProgress => m.take(&self.kim(), &id).await.unwrap(),
            OnHold | Solved | Closed => {
                m.take(&self.kim(), &id).await.unwrap();
                let disposition = if status == OnHold {
                    ReplyDisposition::Hold
                } else {
                    ReplyDisposition::Solve
                };
                let replied = m
                    .reply(&self.kim(), &id, disposition, "답변드립니다")
                    .await
                    .unwrap();
                if status == Closed {
                    m.close(&self.admin, &id).await.unwrap()
                } else {
                    replied
                }
            }
            Spam => {
                m.take(&self.kim(), &id).await.unwrap();
                m.resolve(&self.kim(), &id, ResolutionReason::Spam)
                    .await
                    .unwrap()
            }
            Unspecified => unreachable!(),
        };
        assert_eq!(ticket.status(), status, "setup of {status:?}");
        ticket
    }

    /// Does `act` as the admin (the take as the agent): the status after, or the error code
    /// and message.
    async fn act(&self, ticket: &Ticket, act: Act) -> Result<TicketStatus, (Code, String)> {
        let m = &self.mesh;
        let id = &ticket.id;
        let admin = &self.admin;
        let result = match act {
            Act::Take => m.take(&self.kim(), id).await,
            Act::ForwardToAgent => m.forward(admin, id, &self.group, &self.kim).await,
            Act::ForwardToGroup => m.forward(admin, id, &self.group, "").await,
            Act::ReplySolve => m.reply(admin, id, ReplyDisposition::Solve, "해결").await,
            Act::ReplyHold => m.reply(admin, id, ReplyDisposition::Hold, "보류").await,
            Act::Comment => m.comment(admin, id, "코멘트").await,
            Act::ResolveTest => m.resolve(admin, id, ResolutionReason::Test).await,
            Act::ResolveSpam => m.resolve(admin, id, ResolutionReason::Spam).await,
            Act::Restore => m.restore(admin, id).await,
            Act::Delete => m.delete(admin, id).await.map(|()| ticket.clone()),
            Act::Close => m.close(admin, id).await,
            Act::Update => m.set_priority(admin, id, TicketPriority::High as i32).await,
        };
        result
            .map(|t| t.status())
            .map_err(|s| (s.code(), s.message().to_owned()))
    }
}

#[tokio::test]
async fn every_action_from_every_status_does_what_the_spec_says_or_is_refused() {
    let world = World::start().await;
    for status in STATUSES {
        for act in ACTS {
            let ticket = world.ticket_in(status).await;
            let got = world.act(&ticket, act).await;
            match (expected(status, act), got) {
                (Some(want), Ok(got)) => assert_eq!(got, want, "{status:?} × {act:?}"),
                (None, Err((Code::FailedPrecondition, message))) => assert!(
                    message.contains(status.as_str_name()),
                    "{status:?} × {act:?}: {message}"
                ),
                (want, got) => panic!("{status:?} × {act:?}: wanted {want:?}, got {got:?}"),
            }
            // A refused action changed nothing.
            if expected(status, act).is_none() {
                let now = world.mesh.get(&world.admin, &ticket.id).await.unwrap();
                assert_eq!(now.version, ticket.version, "{status:?} × {act:?}");
            }
        }
    }
    world.mesh.stop().await;
}

#[tokio::test]
async fn the_spam_box_restores_the_status_before_and_deletes_for_good() {
    let world = World::start().await;
    let m = &world.mesh;
    // From unassigned, any agent who sees it may send it to the spam box.
    let ticket = world.ticket_in(Unassigned).await;
    let spam = m
        .resolve(&world.kim(), &ticket.id, ResolutionReason::Spam)
        .await
        .unwrap();
    assert_eq!(spam.status(), Spam);
    assert_eq!(spam.status_before_spam(), Unassigned);
    let refused = m
        .reply(&world.admin, &ticket.id, ReplyDisposition::Solve, "x")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("restore it first"),
        "{}",
        refused.message()
    );
    let restored = m.restore(&world.kim(), &ticket.id).await.unwrap();
    assert_eq!(restored.status(), Unassigned);
    assert_eq!(restored.status_before_spam(), TicketStatus::Unspecified);
    assert_eq!(restored.resolution_reason(), ResolutionReason::Unspecified);
    // An agent may not resolve an unassigned ticket for another reason: take it first.
    let denied = m
        .resolve(&world.kim(), &ticket.id, ResolutionReason::Test)
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // Deleted: gone for everyone, its number not reused.
    m.resolve(&world.kim(), &ticket.id, ResolutionReason::Spam)
        .await
        .unwrap();
    m.delete(&world.kim(), &ticket.id).await.unwrap();
    let gone = m.get(&world.admin, &ticket.id).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let next = world.ticket_in(Unassigned).await;
    assert!(next.number > ticket.number);
    world.mesh.stop().await;
}

#[tokio::test]
async fn solving_sets_the_auto_close_time_and_closing_ends_it() {
    let world = World::start().await;
    let m = &world.mesh;
    let solved = world.ticket_in(Solved).await;
    let solve = solved.solve_time.unwrap();
    let auto = solved.auto_close_time.unwrap();
    assert_eq!(auto.seconds - solve.seconds, 14 * 24 * 3600);
    assert!(solved.first_reply_time.is_some());
    let closed = m.close(&world.admin, &solved.id).await.unwrap();
    assert!(closed.auto_close_time.is_none());
    assert!(closed.close_time.is_some());
    // Agents do not close.
    let other = world.ticket_in(Solved).await;
    let denied = m.close(&world.kim(), &other.id).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    world.mesh.stop().await;
}
