//! Input bounds of the whole API, as a client meets them through the gateway with real
//! credentials (issue 12): a 100,000-character value in every string field of every unary rpc
//! of the callback, reporting and gateway services is `INVALID_ARGUMENT` naming the field with
//! response metadata under 8 KiB; out-of-range timestamps, bad group filters and `IssueToken`
//! lifetimes outside 1 minute to the maximum are refused by name.

use std::collections::HashMap;

use bytes::{Buf, BufMut};
use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, Value,
};
use switchboard_gateway::authz::SCOPES;
use switchboard_platform::error::violated_fields;
use switchboard_proto::{
    callback::v1::{
        CallbackFilter, CreateCallbackRequest, GetAssignmentSummaryRequest, ListCallbacksRequest,
        TimeWindow,
    },
    common::v1::LocalDate,
    gateway::v1::{AgentRole, IssueTokenRequest, auth_service_client::AuthServiceClient},
    reporting::v1::{
        AssigneeFilter, GetCallbackProcessingStatusRequest, ListUnfinishedCallbacksPerAgentRequest,
        ReportPeriod, assignee_filter::Assignee,
    },
};
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    transport::Channel,
};

use crate::common::{Mesh, bearer};

/// The packages whose every unary rpc is swept.
const PACKAGES: &[&str] = &[
    "switchboard.callback.v1",
    "switchboard.reporting.v1",
    "switchboard.gateway.v1",
];

/// What a stock grpc-python client accepts as response metadata.
const METADATA_LIMIT: usize = 8 * 1024;

/// Messages as bytes, so any rpc of the descriptor set can be called.
#[derive(Debug, Clone, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        Ok(Some(bytes.to_vec()))
    }
}

async fn call_raw(
    channel: &Channel,
    path: &str,
    message: Vec<u8>,
    credential: &str,
) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("the gateway is ready");
    let path = path.parse().expect("a gRPC path");
    grpc.unary(bearer(message, credential), path, Raw)
        .await
        .map(|response| response.into_inner())
}

/// Every path from `message` to a string field (through nested messages, never into the
/// well-known types), as the fields along it.
fn string_paths(
    message: &MessageDescriptor,
    prefix: &[FieldDescriptor],
    out: &mut Vec<Vec<FieldDescriptor>>,
) {
    for field in message.fields() {
        let mut path = prefix.to_vec();
        path.push(field.clone());
        match field.kind() {
            Kind::String => out.push(path),
            Kind::Message(nested) if field.is_map() => {
                if matches!(nested.map_entry_value_field().kind(), Kind::String) {
                    out.push(path);
                }
            }
            Kind::Message(nested)
                if !nested.full_name().starts_with("google.") && prefix.len() < 4 =>
            {
                string_paths(&nested, &path, out)
            }
            _ => {}
        }
    }
}

/// A message of `message`'s type with only the field at `path` set, to `text`.
fn with_text(message: &MessageDescriptor, path: &[FieldDescriptor], text: &str) -> DynamicMessage {
    let mut built = DynamicMessage::new(message.clone());
    let field = &path[0];
    let value = match (path.len(), field.kind()) {
        (1, _) if field.is_map() => Value::Map(HashMap::from([(
            MapKey::String("k".into()),
            Value::String(text.into()),
        )])),
        (1, _) => Value::String(text.into()),
        (_, Kind::Message(nested)) => Value::Message(with_text(&nested, &path[1..], text)),
        _ => unreachable!("only messages have fields"),
    };
    let value = if field.is_list() {
        Value::List(vec![value])
    } else {
        value
    };
    built.set_field(field, value);
    built
}

/// The name a violation gives the field at `path`: `filter.ivr_route_ids[0]`.
fn field_name(path: &[FieldDescriptor]) -> String {
    path.iter()
        .map(|field| {
            if field.is_list() {
                format!("{}[0]", field.name())
            } else {
                field.name().to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What the answer's metadata takes on the wire, at most: grpc-message percent-encoded,
/// grpc-status-details-bin base64-encoded, and the rest as they are.
fn metadata_bytes(status: &Status) -> usize {
    let others: usize = status
        .metadata()
        .iter()
        .map(|entry| match entry {
            tonic::metadata::KeyAndValueRef::Ascii(key, value) => key.as_str().len() + value.len(),
            tonic::metadata::KeyAndValueRef::Binary(key, value) => {
                key.as_str().len() + value.as_encoded_bytes().len()
            }
        })
        .sum();
    status.message().len() * 3 + status.details().len().div_ceil(3) * 4 + others
}

#[tokio::test]
async fn a_huge_value_in_any_string_field_of_any_unary_rpc_is_refused_by_name() {
    let mesh = Mesh::start_with_callbacks().await;
    let channel = mesh.gateway.channel().await;
    // Whoever the method is for: the admin first, then an agent, then a key with every scope.
    mesh.gateway
        .create_agent("bounds", AgentRole::Agent, &["phone"], &[])
        .await;
    let (_, key) = mesh.gateway.create_api_key("bounds", SCOPES).await;
    let credentials = [mesh.admin(), mesh.gateway.token("bounds"), key];

    let pool = DescriptorPool::decode(switchboard_proto::FILE_DESCRIPTOR_SET).unwrap();
    let huge = "9".repeat(100_000);
    let (mut cases, mut failures) = (0, Vec::new());
    for service in pool.services() {
        if !PACKAGES.contains(&service.package_name()) {
            continue;
        }
        for method in service.methods() {
            if method.is_client_streaming() || method.is_server_streaming() {
                continue;
            }
            let rpc = format!("/{}/{}", service.full_name(), method.name());
            let mut paths = Vec::new();
            string_paths(&method.input(), &[], &mut paths);
            for path in paths {
                cases += 1;
                let field = field_name(&path);
                let message = with_text(&method.input(), &path, &huge).encode_to_vec();
                let mut answer = None;
                for credential in &credentials {
                    let result = call_raw(&channel, &rpc, message.clone(), credential).await;
                    let denied = matches!(
                        &result,
                        Err(status) if matches!(status.code(), Code::PermissionDenied | Code::Unauthenticated)
                    );
                    answer = Some(result);
                    if !denied {
                        break;
                    }
                }
                match answer.expect("one credential was tried") {
                    Err(status)
                        if status.code() == Code::InvalidArgument
                            && violated_fields(&status).contains(&field)
                            && metadata_bytes(&status) < METADATA_LIMIT => {}
                    Err(status) => failures.push(format!(
                        "{rpc} {field}: {:?} {:?} naming {:?}, {} bytes of metadata",
                        status.code(),
                        status.message().chars().take(200).collect::<String>(),
                        violated_fields(&status),
                        metadata_bytes(&status),
                    )),
                    Ok(_) => failures.push(format!("{rpc} {field}: answered OK")),
                }
            }
        }
    }
    mesh.stop().await;
    // Every string field of the three services is a case: the walk would find a new one.
    assert!(cases > 50, "only {cases} string fields were found");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

#[tokio::test]
async fn out_of_range_timestamps_are_refused_by_name() {
    let mesh = Mesh::start_with_callbacks().await;
    let (_, ivr) = mesh
        .gateway
        .create_api_key("ivr", &["callbacks:create"])
        .await;
    let mut callbacks = mesh.callbacks().await;
    let year_34000 = 1_010_764_800_000; // seconds of 34000-01-01, past protobuf's 9999-12-31
    let cases = [
        (
            CreateCallbackRequest {
                request_time: at(-62_135_596_900),
                ..Default::default()
            },
            "request_time",
        ),
        (
            CreateCallbackRequest {
                request_time: at(946_684_800 - 1),
                ..Default::default()
            },
            "request_time",
        ),
        (
            CreateCallbackRequest {
                request_time: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                }),
                ..Default::default()
            },
            "request_time",
        ),
        (
            CreateCallbackRequest {
                preferred_window: Some(TimeWindow {
                    start_time: at(chrono::Utc::now().timestamp()),
                    end_time: at(year_34000),
                }),
                ..Default::default()
            },
            "preferred_window.end_time",
        ),
        (
            CreateCallbackRequest {
                preferred_window: Some(TimeWindow {
                    start_time: at(946_684_800 - 1),
                    end_time: at(chrono::Utc::now().timestamp()),
                }),
                ..Default::default()
            },
            "preferred_window.start_time",
        ),
        (
            CreateCallbackRequest {
                preferred_window: Some(TimeWindow {
                    start_time: at(chrono::Utc::now().timestamp()),
                    end_time: at(chrono::Utc::now().timestamp() + 400 * 86_400),
                }),
                ..Default::default()
            },
            "preferred_window.end_time",
        ),
    ];
    for (mut request, field) in cases {
        request.ivr_call_id = "bounds-1".into();
        request.phone_number = "010-1234-5678".into();
        request.ivr_route_code = "main".into();
        let status = callbacks
            .create_callback(bearer(request, &ivr))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(violated_fields(&status), [field], "{status:?}");
    }
    mesh.stop().await;
}

#[tokio::test]
async fn every_group_filter_is_refused_by_name() {
    let mesh = Mesh::start_with_callbacks().await;
    let admin = mesh.admin();
    let mut callbacks = mesh.callbacks().await;
    let mut reports = mesh.reports().await;
    let bad = "not-a-uuid".to_owned();
    let check = |result: Result<(), Status>, field: &str| {
        let status = result.expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(violated_fields(&status), [field], "{status:?}");
    };
    for (filter, field) in [
        (
            CallbackFilter {
                assignee_group_id: bad.clone(),
                ..Default::default()
            },
            "filter.assignee_group_id",
        ),
        (
            CallbackFilter {
                distributor_group_id: bad.clone(),
                ..Default::default()
            },
            "filter.distributor_group_id",
        ),
    ] {
        let listed = callbacks
            .list_callbacks(bearer(
                ListCallbacksRequest {
                    filter: Some(filter.clone()),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .map(drop);
        check(listed, field);
        let summary = callbacks
            .get_assignment_summary(bearer(
                GetAssignmentSummaryRequest {
                    filter: Some(filter),
                },
                &admin,
            ))
            .await
            .map(drop);
        check(summary, field);
    }
    let day = Some(LocalDate {
        year: 2026,
        month: 12,
        day: 1,
    });
    let report = reports
        .get_callback_processing_status(bearer(
            GetCallbackProcessingStatusRequest {
                period: Some(ReportPeriod {
                    start_date: day,
                    end_date: day,
                }),
                assignee: Some(AssigneeFilter {
                    assignee: Some(Assignee::GroupId(bad.clone())),
                }),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .map(drop);
    check(report, "assignee.group_id");
    let unfinished = reports
        .list_unfinished_callbacks_per_agent(bearer(
            ListUnfinishedCallbacksPerAgentRequest {
                group_id: bad,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .map(drop);
    check(unfinished, "group_id");
    // Any text form of a UUID is one (the one rule), and an empty filter is none.
    let group = mesh.gateway.create_group("상담 1팀").await;
    reports
        .list_unfinished_callbacks_per_agent(bearer(
            ListUnfinishedCallbacksPerAgentRequest {
                group_id: group.id.to_uppercase(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("an upper-case UUID is a group id");
    mesh.stop().await;
}

#[tokio::test]
async fn issue_token_refuses_a_ttl_outside_one_minute_to_the_maximum() {
    let mesh = Mesh::start_with_callbacks().await;
    let mut auth = AuthServiceClient::new(mesh.gateway.channel().await);
    let max = mesh.gateway.settings.auth.local_token.max_ttl_s as i64;
    let issue = |seconds: i64, nanos: i32| IssueTokenRequest {
        agent_login: crate::common::ADMIN.into(),
        ttl: Some(prost_types::Duration { seconds, nanos }),
    };
    for (seconds, nanos) in [
        (30, 0),
        (59, 999_999_999),
        (0, 0),
        (-60, 0),
        (max, 1),
        (72 * 3_600, 0),
    ] {
        let status = auth
            .issue_token(bearer(issue(seconds, nanos), &mesh.admin()))
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{seconds}s: {status:?}"
        );
        assert_eq!(violated_fields(&status), ["ttl"]);
    }
    for seconds in [60, max] {
        let issued = auth
            .issue_token(bearer(issue(seconds, 0), &mesh.admin()))
            .await
            .unwrap_or_else(|status| panic!("{seconds}s: {status:?}"))
            .into_inner();
        let expires = issued.expire_time.unwrap().seconds;
        let lifetime = expires - chrono::Utc::now().timestamp();
        assert!(
            (seconds - 5..=seconds).contains(&lifetime),
            "{seconds}s: {lifetime}s"
        );
    }
    mesh.stop().await;
}
