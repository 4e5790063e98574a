//! What an operator sees of one IVR push through a mesh of `switchboard` processes: its trace
//! at a real OTLP receiver (Switchboard's spans only, one trace across gateway, callback and
//! reporting), and each role's `/metrics` (valid for `promtool`, with the calls counted).
//! Both from one mesh: two meshes at once would share the schemas' migrations and Redis.

mod mesh;
mod otlp_receiver;
mod scrape;

use std::time::{Duration, Instant};

use mesh::Mesh;
use otlp_receiver::{OtlpReceiver, ReceivedSpan};
use switchboard_proto::{
    callback::v1::{
        CreateCallbackRequest, CreateIvrRouteRequest, IvrRoute, RepeatRequestPolicy,
        callback_service_client::CallbackServiceClient,
        ivr_route_service_client::IvrRouteServiceClient,
    },
    gateway::v1::{ApiKey, CreateApiKeyRequest, api_key_service_client::ApiKeyServiceClient},
    reporting::v1::{GetReadModelStatusRequest, reporting_service_client::ReportingServiceClient},
};
use tonic::{Request, transport::Channel};

const CREATE_CALLBACK: &str = "switchboard.callback.v1.CallbackService/CreateCallback";
const CONSUME_REGISTERED: &str = "consume callback.registered";

fn authorized<T>(message: T, bearer: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.parse().unwrap());
    request
}

/// As an admin: an API key for the IVR (its bearer) and an IVR route (its code).
async fn ivr_setup(gateway: Channel, admin: &str) -> (String, String) {
    let secret = ApiKeyServiceClient::new(gateway.clone())
        .create_api_key(authorized(
            CreateApiKeyRequest {
                api_key: Some(ApiKey {
                    display_name: "telemetry-ivr".into(),
                    scopes: vec!["callbacks:create".into()],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .secret;
    let code = "telemetry-route".to_owned();
    IvrRouteServiceClient::new(gateway)
        .create_ivr_route(authorized(
            CreateIvrRouteRequest {
                ivr_route: Some(IvrRoute {
                    code: code.clone(),
                    display_name: "원격 측정".into(),
                    repeat_request_policy: RepeatRequestPolicy::Attach as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .unwrap();
    (format!("Bearer {secret}"), code)
}

/// A call to a path no service has, as the gateway's proxy may be sent any day.
async fn call_unknown_path(gateway: Channel, admin: &str) -> tonic::Code {
    let mut grpc = tonic::client::Grpc::new(gateway);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/evil.v1.Anything/Whatever");
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc.unary(authorized((), admin), path, codec).await {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    }
}

fn describe(spans: &[&ReceivedSpan]) -> Vec<String> {
    spans
        .iter()
        .map(|s| format!("{} {} ({})", s.service, s.name, s.target))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_push_is_one_trace_of_switchboard_spans_and_every_role_counts_its_calls() {
    let started = Instant::now();
    let receiver = OtlpReceiver::start().await;
    let mesh = Mesh::start(&receiver.endpoint()).await;
    let admin = mesh.admin_bearer();
    let (ivr, route) = ivr_setup(mesh.gateway().await, &admin).await;

    CallbackServiceClient::new(mesh.gateway().await)
        .create_callback(authorized(
            CreateCallbackRequest {
                ivr_call_id: "telemetry-call-1".into(),
                phone_number: "010-2345-6789".into(),
                ivr_route_code: route,
                ..Default::default()
            },
            &ivr,
        ))
        .await
        .expect("the IVR's push is accepted");
    let consumed = switchboard_platform::testing::eventually(Duration::from_secs(20), || async {
        receiver
            .spans()
            .iter()
            .any(|s| s.name == CONSUME_REGISTERED)
    })
    .await;
    assert!(
        consumed,
        "reporting's consumer span arrives: {:?}\n{}",
        describe(&receiver.spans().iter().collect::<Vec<_>>()),
        mesh.logs()
    );
    ReportingServiceClient::new(mesh.gateway().await)
        .get_read_model_status(authorized(GetReadModelStatusRequest::default(), &admin))
        .await
        .expect("an admin reads the model's status");
    let refused = call_unknown_path(mesh.gateway().await, &admin).await;
    assert_ne!(refused, tonic::Code::Ok);

    // Every role's /metrics: valid, with its own calls counted and timed.
    let unary = |service: &str, method: &str| {
        format!("grpc_type=\"unary\",grpc_service=\"{service}\",grpc_method=\"{method}\"")
    };
    let push = unary("switchboard.callback.v1.CallbackService", "CreateCallback");
    let status = unary(
        "switchboard.reporting.v1.ReportingService",
        "GetReadModelStatus",
    );
    let expected = [
        (
            "gateway",
            vec![
                format!("grpc_server_started_total{{{push}}}"),
                format!("grpc_server_handled_total{{{push},grpc_code=\"OK\"}}"),
                format!("grpc_server_handling_seconds_count{{{push}}}"),
                format!("grpc_server_handling_seconds_bucket{{{push},le=\"+Inf\"}}"),
                format!("grpc_server_handled_total{{{status},grpc_code=\"OK\"}}"),
                "switchboard_outbox_pending{schema=\"gateway\"}".to_owned(),
            ],
        ),
        (
            "callback",
            vec![
                format!("grpc_server_handled_total{{{push},grpc_code=\"OK\"}}"),
                format!("grpc_server_handling_seconds_count{{{push}}}"),
                "switchboard_outbox_pending{schema=\"callback\"}".to_owned(),
            ],
        ),
        (
            "reporting",
            vec![
                format!("grpc_server_handled_total{{{status},grpc_code=\"OK\"}}"),
                format!("grpc_server_handling_seconds_count{{{status}}}"),
                "switchboard_read_model_applied_events{model=\"callbacks\"}".to_owned(),
            ],
        ),
    ];
    for (role, series) in expected {
        let text = scrape::scrape(mesh.role(role).metrics).await;
        scrape::promtool_check(role, &text);
        for series in series {
            let value = scrape::value(&text, &series);
            let expected = if series.starts_with("switchboard_") {
                value.is_some()
            } else {
                value == Some(1.0)
            };
            assert!(expected, "{role}: {series} is {value:?} in\n{text}");
        }
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_virtual_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
        ] {
            assert!(
                text.contains(&format!("\n{name} ")),
                "{role}: {name} in\n{text}"
            );
        }
        if role == "gateway" {
            let unknown = "grpc_type=\"unknown\",grpc_service=\"unknown\",grpc_method=\"unknown\"";
            assert!(
                text.contains(&format!("grpc_server_started_total{{{unknown}}} 1")),
                "a path outside the API is counted as unknown:\n{text}"
            );
            assert!(!text.contains("evil"), "{text}");
        }
    }

    mesh.stop().await;
    let spans = receiver.spans();
    let all: Vec<&ReceivedSpan> = spans.iter().collect();
    let foreign: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| !s.target.starts_with("switchboard") || s.scope != "switchboard")
        .collect();
    assert!(
        foreign.is_empty(),
        "only Switchboard's spans are exported, not {:?}",
        describe(&foreign)
    );

    let push = spans
        .iter()
        .find(|s| s.service == "switchboard-gateway" && s.name == CREATE_CALLBACK)
        .unwrap_or_else(|| panic!("the gateway's span of the push among {:?}", describe(&all)));
    let mut trace: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.trace_id == push.trace_id)
        .collect();
    trace.sort_by_key(|s| {
        (
            s.service != "switchboard-gateway",
            s.name == CONSUME_REGISTERED,
        )
    });
    let path: Vec<(&str, &str)> = trace
        .iter()
        .map(|s| (s.service.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(
        path,
        [
            ("switchboard-gateway", CREATE_CALLBACK),
            ("switchboard-callback", CREATE_CALLBACK),
            ("switchboard-reporting", CONSUME_REGISTERED),
        ],
        "the push's trace holds exactly the spans of its path: {:?}",
        describe(&trace)
    );
    assert!(
        trace[0].parent_span_id.is_empty(),
        "the gateway starts the trace"
    );
    assert_eq!(
        trace[1].parent_span_id, trace[0].span_id,
        "gateway → callback"
    );
    assert_eq!(
        trace[2].parent_span_id, trace[1].span_id,
        "callback → reporting"
    );
    eprintln!(
        "{} spans received in all; the test took {:.1} s",
        spans.len(),
        started.elapsed().as_secs_f64()
    );
}
