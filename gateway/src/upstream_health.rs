//! The gateway's health covers what it routes: every few seconds it asks each service's
//! `grpc.health.v1` and reports the answer under the names of that service's gRPC services, so
//! a probe of `switchboard.callback.v1.CallbackService` at the gateway tells whether a call to it
//! can get through.

use std::time::Duration;

use prost::Message;
use switchboard_platform::Shutdown;
use tonic::transport::Channel;
use tonic_health::{
    ServingStatus,
    pb::{HealthCheckRequest, health_check_response, health_client::HealthClient},
    server::HealthReporter,
};

/// The gRPC services of `package` in the API (`switchboard.callback.v1` →
/// `switchboard.callback.v1.CallbackService`, `…IvrRouteService`).
pub fn services_of(package: &str) -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(switchboard_proto::FILE_DESCRIPTOR_SET)
        .expect("the API's descriptor set decodes");
    set.file
        .iter()
        .filter(|file| file.package() == package)
        .flat_map(|file| file.service.iter())
        .map(|service| format!("{package}.{}", service.name()))
        .collect()
}

/// One routed service: its name, its package's gRPC services and its connection.
pub struct Watched {
    pub service: String,
    pub grpc_services: Vec<String>,
    pub channel: Channel,
}

/// Polls every routed service until `shutdown`.
pub async fn watch(
    health: HealthReporter,
    watched: Vec<Watched>,
    interval: Duration,
    mut shutdown: Shutdown,
) {
    loop {
        for upstream in &watched {
            let status = check(upstream.channel.clone()).await;
            for name in &upstream.grpc_services {
                health.set_service_status(name, status).await;
            }
            if status != ServingStatus::Serving {
                tracing::debug!(service = %upstream.service, ?status, "routed service not serving");
            }
        }
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

async fn check(channel: Channel) -> ServingStatus {
    let mut client = HealthClient::new(channel);
    let mut request = tonic::Request::new(HealthCheckRequest::default());
    request.set_timeout(Duration::from_secs(1));
    match client.check(request).await {
        Ok(response)
            if response.get_ref().status() == health_check_response::ServingStatus::Serving =>
        {
            ServingStatus::Serving
        }
        _ => ServingStatus::NotServing,
    }
}
