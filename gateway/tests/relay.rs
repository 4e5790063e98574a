//! An answer the gateway cannot relay (trailers over the service→gateway header limit) is a
//! clean `INTERNAL`, never `UNAVAILABLE`: clients retry `UNAVAILABLE`, and this call would fail
//! the same way for ever (issue 12).

use switchboard_proto::reporting::v1::{
    GetReadModelStatusRequest, ListUnfinishedCallbacksPerAgentRequest,
    reporting_service_client::ReportingServiceClient,
};
use tonic::Code;

use crate::{
    common::{ADMIN, Harness, bearer},
    routing::{reporting_at, start_reporting},
};

#[tokio::test]
async fn an_answer_too_large_to_relay_is_internal_not_unavailable() {
    let (reporting, _stop) = start_reporting().await;
    let harness = Harness::start(reporting_at(format!("http://{reporting}"))).await;
    let mut client = ReportingServiceClient::new(harness.channel().await);
    let admin = harness.token(ADMIN);

    // The fake reporting service answers this with trailers over the limit.
    let status = client
        .list_unfinished_callbacks_per_agent(bearer(
            ListUnfinishedCallbacksPerAgentRequest::default(),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{:?}", status.code());
    assert_eq!(
        status.message(),
        "the reporting service's answer could not be relayed"
    );

    // The connection to the service survives: the next answer is relayed as it is.
    client
        .get_read_model_status(bearer(GetReadModelStatusRequest::default(), &admin))
        .await
        .expect("the next call is relayed");
    harness.stop().await;
}
