//! The gRPC handlers: `CallbackService` and `IvrRouteService`. Each method reads the verified
//! principal, validates its request naming bad fields, and makes its change, history and
//! events in one transaction.

mod access;
mod announce;
mod assign;
mod export;
mod filter;
mod intake;
mod read;
mod route_cache;
mod routes;
mod watch;
mod work;

use std::{pin::Pin, sync::Arc};

use chrono_tz::Tz;
use futures_util::Stream;
use phonenumber::country;
use sqlx::PgPool;
use switchboard_platform::{calendar, request::PrincipalAndBody, shutdown::Shutdown};
use switchboard_proto::callback::v1::{
    callback_service_server::CallbackService, ivr_route_service_server::IvrRouteService, *,
};
use tonic::{Request, Response, Status};

pub use routes::RouteApi;

use self::{
    intake::batches::{PushBatches, push_batches},
    route_cache::RouteCache,
};
use switchboard_platform::phone;

use crate::directory::Directory;

/// What the handlers need from the configuration, parsed once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub zone: Tz,
    pub region: country::Id,
    pub export_max_rows: i64,
}

impl Settings {
    pub fn new(time_zone: &str, region: &str, export_max_rows: i64) -> anyhow::Result<Self> {
        Ok(Self {
            zone: calendar::zone(time_zone)?,
            region: phone::region(region)?,
            export_max_rows,
        })
    }
}

#[derive(Clone)]
pub struct CallbackApi {
    pool: PgPool,
    settings: Arc<Settings>,
    directory: Directory,
    /// The routes pushes go through, by code (checked by every push, never invalidated).
    routes: RouteCache,
    /// Where pushes wait to be written together.
    push_batches: PushBatches,
    watchers_stop: Option<Shutdown>,
}

impl CallbackApi {
    /// `batch_writers`: how many batches of pushes are written at once.
    pub fn new(
        pool: PgPool,
        settings: Settings,
        directory: Directory,
        batch_writers: usize,
    ) -> Self {
        Self {
            push_batches: push_batches(pool.clone(), batch_writers),
            pool,
            settings: Arc::new(settings),
            directory,
            routes: RouteCache::default(),
            watchers_stop: None,
        }
    }

    /// Ends every `WatchConnectRequests` stream when `stop` is triggered (UNAVAILABLE: the CTI
    /// reconnects, to another replica); without it they run until the caller leaves.
    pub fn ending_watchers_on(mut self, stop: Shutdown) -> Self {
        self.watchers_stop = Some(stop);
        self
    }
}

type ExportStream = Pin<Box<dyn Stream<Item = Result<ExportCallbacksResponse, Status>> + Send>>;

#[tonic::async_trait]
impl CallbackService for CallbackApi {
    async fn create_callback(
        &self,
        request: Request<CreateCallbackRequest>,
    ) -> Result<Response<CreateCallbackResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        intake::create(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn get_callback(
        &self,
        request: Request<GetCallbackRequest>,
    ) -> Result<Response<GetCallbackResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        read::get(self, &principal, &request)
            .await
            .map(Response::new)
    }

    async fn list_callbacks(
        &self,
        request: Request<ListCallbacksRequest>,
    ) -> Result<Response<ListCallbacksResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        read::list(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn connect_callback(
        &self,
        request: Request<ConnectCallbackRequest>,
    ) -> Result<Response<ConnectCallbackResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::connect(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn record_attempt_outcome(
        &self,
        request: Request<RecordAttemptOutcomeRequest>,
    ) -> Result<Response<RecordAttemptOutcomeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::record_outcome(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn complete_callback(
        &self,
        request: Request<CompleteCallbackRequest>,
    ) -> Result<Response<CompleteCallbackResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::complete(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn get_assignment_summary(
        &self,
        request: Request<GetAssignmentSummaryRequest>,
    ) -> Result<Response<GetAssignmentSummaryResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        assign::summary(self, &principal, &request)
            .await
            .map(Response::new)
    }

    async fn list_candidate_agents(
        &self,
        request: Request<ListCandidateAgentsRequest>,
    ) -> Result<Response<ListCandidateAgentsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        assign::candidates(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn assign_evenly(
        &self,
        request: Request<AssignEvenlyRequest>,
    ) -> Result<Response<AssignEvenlyResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        assign::evenly(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn assign_manually(
        &self,
        request: Request<AssignManuallyRequest>,
    ) -> Result<Response<AssignManuallyResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        assign::manually(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn cancel_assignment(
        &self,
        request: Request<CancelAssignmentRequest>,
    ) -> Result<Response<CancelAssignmentResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        assign::cancel(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn list_unfinished_counts(
        &self,
        request: Request<ListUnfinishedCountsRequest>,
    ) -> Result<Response<ListUnfinishedCountsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        assign::unfinished(self, &principal, request)
            .await
            .map(Response::new)
    }

    type ExportCallbacksStream = ExportStream;

    async fn export_callbacks(
        &self,
        request: Request<ExportCallbacksRequest>,
    ) -> Result<Response<Self::ExportCallbacksStream>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        export::start(self, &principal, request)
            .await
            .map(Response::new)
    }

    type WatchConnectRequestsStream = watch::WatchStream;

    async fn watch_connect_requests(
        &self,
        request: Request<WatchConnectRequestsRequest>,
    ) -> Result<Response<Self::WatchConnectRequestsStream>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        watch::start(self, &principal, request)
            .await
            .map(Response::new)
    }
}

#[tonic::async_trait]
impl IvrRouteService for RouteApi {
    async fn create_ivr_route(
        &self,
        request: Request<CreateIvrRouteRequest>,
    ) -> Result<Response<CreateIvrRouteResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.create(&principal, request).await.map(Response::new)
    }

    async fn get_ivr_route(
        &self,
        request: Request<GetIvrRouteRequest>,
    ) -> Result<Response<GetIvrRouteResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.get(&principal, &request).await.map(Response::new)
    }

    async fn list_ivr_routes(
        &self,
        request: Request<ListIvrRoutesRequest>,
    ) -> Result<Response<ListIvrRoutesResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.list(&principal, request).await.map(Response::new)
    }

    async fn update_ivr_route(
        &self,
        request: Request<UpdateIvrRouteRequest>,
    ) -> Result<Response<UpdateIvrRouteResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.update(&principal, request).await.map(Response::new)
    }

    async fn delete_ivr_route(
        &self,
        request: Request<DeleteIvrRouteRequest>,
    ) -> Result<Response<DeleteIvrRouteResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.delete(&principal, &request).await.map(Response::new)
    }
}
