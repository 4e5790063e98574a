//! Long input under the API's string bound is never echoed whole (issue 12): a push whose
//! `phone_number` is 5,000 digits, or whose `ivr_route_code` is 8,000 characters, is answered
//! with a clean status whose text quotes at most 64 characters with the length, so the answer's
//! metadata stays far under a stock client's 8 KiB.

use switchboard_platform::error::violated_fields;
use switchboard_proto::callback::v1::{CreateCallbackRequest, RepeatRequestPolicy};
use tonic::Code;

use crate::common::Mesh;

/// What the status's text and details take on the wire, at most (percent-encoded message,
/// base64 details).
fn wire_bytes(status: &tonic::Status) -> usize {
    status.message().len() * 3 + status.details().len().div_ceil(3) * 4
}

#[tokio::test]
async fn long_phone_numbers_and_route_codes_are_quoted_not_echoed() {
    let mesh = Mesh::start().await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let digits = format!("010{}", "1".repeat(4_997));
    let status = mesh
        .push_request(CreateCallbackRequest {
            ivr_call_id: "echo-1".into(),
            phone_number: digits.clone(),
            ivr_route_code: "main".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), ["phone_number"]);
    assert!(
        status.message().contains("(5000 chars)") && !status.message().contains(&digits[..100]),
        "{}",
        status.message()
    );
    assert!(wire_bytes(&status) < 1_024, "{} bytes", wire_bytes(&status));

    let code = "가".repeat(8_000);
    let status = mesh
        .push_request(CreateCallbackRequest {
            ivr_call_id: "echo-2".into(),
            phone_number: "010-1234-5678".into(),
            ivr_route_code: code.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(
        status.message().contains("(8000 chars)"),
        "{}",
        status.message()
    );
    assert!(wire_bytes(&status) < 1_024, "{} bytes", wire_bytes(&status));
    mesh.stop().await;
}
