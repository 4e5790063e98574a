//! The IVR of the benchmarks that push through a gateway: the API key and IVR route a run
//! creates for itself (signing in as an admin with a token of the gateway's own), and its pushes.

use std::{sync::Arc, time::Duration};

use switchboard_gateway::GatewaySettings;
use switchboard_platform::{db, service::Service};
use switchboard_proto::{
    callback::v1::{
        CreateCallbackRequest, CreateCallbackResponse, CreateIvrRouteRequest, IvrRoute,
        RepeatRequestPolicy, callback_service_client::CallbackServiceClient,
        ivr_route_service_client::IvrRouteServiceClient,
    },
    gateway::v1::{ApiKey, CreateApiKeyRequest, api_key_service_client::ApiKeyServiceClient},
};
use tonic::{
    Request,
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

use super::{connect_url, vacuum};
use crate::config::Config;

/// Connections the load is spread over (one HTTP/2 connection each).
const CHANNELS: usize = 4;

pub(crate) fn authorized<T>(message: T, bearer: &MetadataValue<Ascii>) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

/// A distinct valid Korean mobile number for every push of a run.
pub fn phone_number(worker: usize, sequence: u64) -> String {
    let n = 20_000_000 + (worker as u64 * 1_000_000 + sequence) % 80_000_000;
    format!("010-{:04}-{:04}", n / 10_000, n % 10_000)
}

/// On a server whose autovacuum is off, vacuums what pushes write and read first (the relay's
/// deleted outbox rows of earlier runs would otherwise slow each later one) and says so.
pub async fn vacuum_when_autovacuum_is_off(config: &Config) -> anyhow::Result<()> {
    let mut database = config.database.clone();
    database.max_connections = 1;
    let pool = db::connect(&database, switchboard_callback::Application::SPEC.schema).await?;
    let schemas = [
        switchboard_callback::Application::SPEC.schema,
        switchboard_reporting::Application::SPEC.schema,
    ];
    vacuum::when_autovacuum_is_off_say(&pool, &schemas, "").await?;
    pool.close().await;
    Ok(())
}

/// A short id that names one run's key, route and call ids.
pub fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

/// Signs in to `gateway` as `admin` with a token issued from `gateway_settings` (valid for an
/// hour): a connection and the `authorization` value of the admin's calls.
pub(crate) async fn sign_in(
    gateway_settings: &GatewaySettings,
    gateway: &str,
    admin: &str,
) -> anyhow::Result<(Channel, MetadataValue<Ascii>)> {
    let (token, _) = switchboard_gateway::issue_local_token(
        gateway_settings,
        admin,
        Some(Duration::from_secs(3_600)),
    )?;
    let bearer = format!("Bearer {token}").parse()?;
    let channel = connect_url(gateway).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the gateway at {gateway} ({e}); start the mesh with scripts/dev"
        )
    })?;
    Ok((channel, bearer))
}

/// `first` and further connections to `gateway`, `CHANNELS` in all, to spread a load over.
pub(crate) async fn spread(gateway: &str, first: Channel) -> anyhow::Result<Vec<Channel>> {
    let mut channels = vec![first];
    for _ in 1..CHANNELS {
        channels.push(connect_url(gateway).await?);
    }
    Ok(channels)
}

/// The IVR of one run: its API key, its route, and connections to the gateway.
#[derive(Clone)]
pub struct Ivr {
    pub run: Arc<str>,
    pub route_code: Arc<str>,
    bearer: Arc<MetadataValue<Ascii>>,
    clients: Arc<Vec<CallbackServiceClient<Channel>>>,
}

impl Ivr {
    /// Creates the run's API key (scope `callbacks:create`) and IVR route through `gateway`,
    /// signed in as `admin` with a token issued from `gateway_settings`.
    pub async fn create(
        gateway_settings: &GatewaySettings,
        gateway: &str,
        admin: &str,
        run: &str,
    ) -> anyhow::Result<Self> {
        let (channel, admin_bearer) = sign_in(gateway_settings, gateway, admin).await?;
        let secret = ApiKeyServiceClient::new(channel.clone())
            .create_api_key(authorized(
                CreateApiKeyRequest {
                    api_key: Some(ApiKey {
                        display_name: format!("bench-ivr-{run}"),
                        scopes: vec!["callbacks:create".into()],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &admin_bearer,
            ))
            .await
            .map_err(|s| anyhow::anyhow!("creating the benchmark's API key as {admin:?}: {s}"))?
            .into_inner()
            .secret;
        let route_code = format!("bench-{run}");
        IvrRouteServiceClient::new(channel.clone())
            .create_ivr_route(authorized(
                CreateIvrRouteRequest {
                    ivr_route: Some(IvrRoute {
                        code: route_code.clone(),
                        display_name: format!("벤치마크 {run}"),
                        repeat_request_policy: RepeatRequestPolicy::Attach as i32,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &admin_bearer,
            ))
            .await
            .map_err(|s| anyhow::anyhow!("creating the benchmark's IVR route: {s}"))?;
        let channels = spread(gateway, channel).await?;
        Ok(Self {
            run: run.into(),
            route_code: route_code.into(),
            bearer: Arc::new(format!("Bearer {secret}").parse()?),
            clients: Arc::new(
                channels
                    .into_iter()
                    .map(CallbackServiceClient::new)
                    .collect(),
            ),
        })
    }

    /// The call id of push `sequence` of `worker`: unique in the run.
    pub fn call_id(&self, worker: usize, sequence: u64) -> String {
        format!("{}-{worker}-{sequence}", self.run)
    }

    /// Push `sequence` of `worker`, with a deadline when `timeout` is given.
    pub async fn push(
        &self,
        worker: usize,
        sequence: u64,
        timeout: Option<Duration>,
    ) -> Result<CreateCallbackResponse, tonic::Status> {
        let mut client = self.clients[worker % self.clients.len()].clone();
        let mut request = authorized(
            CreateCallbackRequest {
                ivr_call_id: self.call_id(worker, sequence),
                phone_number: phone_number(worker, sequence),
                ivr_route_code: self.route_code.to_string(),
                memo: "벤치마크".into(),
                ..Default::default()
            },
            &self.bearer,
        );
        if let Some(timeout) = timeout {
            request.set_timeout(timeout);
        }
        client
            .create_callback(request)
            .await
            .map(tonic::Response::into_inner)
    }
}

/// The callback id of an answered push.
pub fn callback_id(response: &CreateCallbackResponse) -> Option<uuid::Uuid> {
    response.callback.as_ref()?.id.parse().ok()
}
