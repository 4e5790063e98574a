//! CTI presence: logins, state changes and logouts are seen at once by the readers the callback
//! service uses, heartbeats keep a session alive, a session without them expires after the TTL,
//! and every change is published as a `presence.changed` event.

use std::time::Duration;

use crate::common::{EventTap, Harness, bearer};
use prost::Message;
use switchboard_platform::error::violated_fields;
use switchboard_proto::{
    events::{
        Event,
        v1::{PresenceChangeReason, PresenceChanged},
    },
    gateway::v1::{
        AgentRole, GetPresenceRequest, HeartbeatRequest, ListPresentAgentsRequest, LoginRequest,
        LogoutRequest, PresenceState, SetStateRequest,
        presence_service_client::PresenceServiceClient,
    },
};
use tonic::{Code, transport::Channel};

async fn start() -> Harness {
    Harness::start_with(
        Vec::new(),
        |settings| {
            settings.presence.ttl_s = 1;
            settings.presence.sweep_interval_ms = 100;
        },
        Default::default(),
    )
    .await
}

fn payload(event: &switchboard_proto::events::v1::EventEnvelope) -> PresenceChanged {
    PresenceChanged::decode(event.payload.as_ref().unwrap().value.as_slice()).unwrap()
}

/// The logins present now in `group` (empty: all), as the callback service's filter asks.
async fn present(
    client: &mut PresenceServiceClient<Channel>,
    reader: &str,
    group: &str,
) -> Vec<String> {
    client
        .list_present_agents(bearer(
            ListPresentAgentsRequest {
                group_id: group.into(),
                ..Default::default()
            },
            reader,
        ))
        .await
        .unwrap()
        .into_inner()
        .presences
        .into_iter()
        .map(|p| p.agent_login)
        .collect()
}

#[tokio::test]
async fn presence_is_seen_at_once_expires_without_heartbeats_and_is_published() {
    let harness = start().await;
    let tap = EventTap::start(&harness, &[PresenceChanged::EVENT_TYPE]).await;
    let team = harness.create_group("상담 1팀").await.id;
    for login in ["kim", "lee", "park"] {
        let groups = if login == "park" {
            vec![]
        } else {
            vec![team.clone()]
        };
        harness
            .create_agent(login, AgentRole::Agent, &["phone"], &groups)
            .await;
    }
    let (_, cti) = harness.create_api_key("cti", &["presence:write"]).await;
    let (_, callback_service) = harness
        .create_api_key("callback-svc", &["presence:read"])
        .await;
    let mut client = PresenceServiceClient::new(harness.channel().await);

    // kim logs in herself; the CTI logs lee and park in.
    let kim = harness.token("kim");
    let login = |agent: &str| LoginRequest {
        agent_login: agent.into(),
        extension: "2001".into(),
        state: PresenceState::Available as i32,
    };
    let me = client
        .login(bearer(login(""), &kim))
        .await
        .unwrap()
        .into_inner()
        .presence
        .unwrap();
    assert_eq!(
        (me.agent_login.as_str(), me.state()),
        ("kim", PresenceState::Available)
    );
    client.login(bearer(login("lee"), &cti)).await.unwrap();
    client.login(bearer(login("park"), &cti)).await.unwrap();
    // An agent cannot act for a colleague.
    let status = client.login(bearer(login("lee"), &kim)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    // Nor read the list the callback service reads.
    let status = client
        .list_present_agents(bearer(ListPresentAgentsRequest::default(), &kim))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    assert_eq!(
        present(&mut client, &callback_service, &team).await,
        ["kim", "lee"]
    );
    assert_eq!(
        present(&mut client, &callback_service, "").await,
        ["kim", "lee", "park"]
    );

    // A logout is visible at once.
    client
        .logout(bearer(
            LogoutRequest {
                agent_login: "lee".into(),
            },
            &cti,
        ))
        .await
        .unwrap();
    assert_eq!(
        present(&mut client, &callback_service, &team).await,
        ["kim"]
    );

    // States: ON_CALL is a change; OFFLINE cannot be set.
    client
        .set_state(bearer(
            SetStateRequest {
                agent_login: String::new(),
                state: PresenceState::OnCall as i32,
            },
            &kim,
        ))
        .await
        .unwrap();
    let status = client
        .set_state(bearer(
            SetStateRequest {
                agent_login: String::new(),
                state: PresenceState::Offline as i32,
            },
            &kim,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["state"]);
    let on_call = client
        .list_present_agents(bearer(
            ListPresentAgentsRequest {
                states: vec![PresenceState::OnCall as i32],
                ..Default::default()
            },
            &callback_service,
        ))
        .await
        .unwrap()
        .into_inner()
        .presences;
    assert_eq!(on_call.len(), 1);
    assert_eq!(on_call[0].agent_login, "kim");
    // An agent cannot read a colleague's presence either.
    let status = client
        .get_presence(bearer(
            GetPresenceRequest {
                agent_login: "park".into(),
            },
            &kim,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // park keeps heartbeating past the 1 s TTL and stays; kim stops and expires.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        client
            .heartbeat(bearer(
                HeartbeatRequest {
                    agent_login: "park".into(),
                },
                &cti,
            ))
            .await
            .expect("park's session is kept alive");
    }
    assert_eq!(
        present(&mut client, &callback_service, "").await,
        ["park"],
        "kim expired"
    );
    let kim_now = client
        .get_presence(bearer(
            GetPresenceRequest {
                agent_login: "kim".into(),
            },
            &callback_service,
        ))
        .await
        .unwrap()
        .into_inner()
        .presence
        .unwrap();
    assert_eq!(kim_now.state(), PresenceState::Offline);
    let status = client
        .heartbeat(bearer(HeartbeatRequest::default(), &kim))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    // The events, each agent's versions counting up.
    let expired = tap
        .wait_for("kim expired", |e| {
            e.aggregate_id == "kim" && payload(e).reason() == PresenceChangeReason::Expired
        })
        .await;
    let expired_payload = payload(&expired);
    assert_eq!(expired_payload.state_before(), PresenceState::OnCall);
    assert_eq!(
        expired_payload.presence.unwrap().state(),
        PresenceState::Offline
    );
    assert_eq!(expired_payload.group_ids, std::slice::from_ref(&team));
    tap.wait_for("lee logged out", |e| {
        e.aggregate_id == "lee" && payload(e).reason() == PresenceChangeReason::Logout
    })
    .await;
    let kim_events: Vec<_> = tap
        .events()
        .into_iter()
        .filter(|e| e.aggregate_id == "kim")
        .collect();
    let reasons: Vec<_> = kim_events.iter().map(|e| payload(e).reason()).collect();
    assert_eq!(
        reasons,
        [
            PresenceChangeReason::Login,
            PresenceChangeReason::StateChanged,
            PresenceChangeReason::Expired
        ]
    );
    let versions: Vec<_> = kim_events.iter().map(|e| e.aggregate_version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert!(
        tap.events()
            .iter()
            .all(|e| e.event_type == PresenceChanged::EVENT_TYPE && e.source == "gateway"),
        "heartbeats publish nothing"
    );
    assert_eq!(tap.events().len(), 6, "kim 3, lee 2, park 1");

    // Disabling an agent ends their CTI session at once.
    harness.disable_agent("park").await;
    assert!(present(&mut client, &callback_service, "").await.is_empty());
    tap.wait_for("park disabled", |e| {
        e.aggregate_id == "park" && payload(e).reason() == PresenceChangeReason::AgentDisabled
    })
    .await;
    harness.stop().await;
}
