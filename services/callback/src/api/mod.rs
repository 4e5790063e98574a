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
mod routes;
mod work;

use std::{pin::Pin, sync::Arc};

use chrono_tz::Tz;
use futures_util::Stream;
use phonenumber::country;
use sqlx::PgPool;
use switchboard_platform::{
    calendar,
    error::{FieldViolations, invalid_field, sql_status},
    principal::RequestPrincipal,
};
use switchboard_proto::callback::v1::{
    callback_service_server::CallbackService, ivr_route_service_server::IvrRouteService, *,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

pub use routes::RouteApi;

use crate::{directory::Directory, domain::phone};

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
}

impl CallbackApi {
    pub fn new(pool: PgPool, settings: Settings, directory: Directory) -> Self {
        Self {
            pool,
            settings: Arc::new(settings),
            directory,
        }
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, Status> {
        self.pool.begin().await.map_err(|e| sql_status("begin", &e))
    }
}

/// A UUID request field, or `INVALID_ARGUMENT` naming it.
fn uuid_field(text: &str, field: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(text.trim()).map_err(|_| invalid_field(field, "must be a UUID"))
}

/// A UUID request field, or `None` with a violation naming it among the request's others.
fn uuid_in(text: &str, field: &str, violations: &mut FieldViolations) -> Option<Uuid> {
    let parsed = Uuid::parse_str(text.trim()).ok();
    violations.check(parsed.is_none(), field, || "must be a UUID".into());
    parsed
}

type ExportStream = Pin<Box<dyn Stream<Item = Result<ExportCallbacksResponse, Status>> + Send>>;

#[tonic::async_trait]
impl CallbackService for CallbackApi {
    async fn create_callback(
        &self,
        request: Request<CreateCallbackRequest>,
    ) -> Result<Response<CreateCallbackResponse>, Status> {
        let principal = request.principal()?.clone();
        intake::create(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_callback(
        &self,
        request: Request<GetCallbackRequest>,
    ) -> Result<Response<GetCallbackResponse>, Status> {
        let principal = request.principal()?.clone();
        read::get(self, &principal, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_callbacks(
        &self,
        request: Request<ListCallbacksRequest>,
    ) -> Result<Response<ListCallbacksResponse>, Status> {
        let principal = request.principal()?.clone();
        read::list(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn connect_callback(
        &self,
        request: Request<ConnectCallbackRequest>,
    ) -> Result<Response<ConnectCallbackResponse>, Status> {
        let principal = request.principal()?.clone();
        work::connect(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn record_attempt_outcome(
        &self,
        request: Request<RecordAttemptOutcomeRequest>,
    ) -> Result<Response<RecordAttemptOutcomeResponse>, Status> {
        let principal = request.principal()?.clone();
        work::record_outcome(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn complete_callback(
        &self,
        request: Request<CompleteCallbackRequest>,
    ) -> Result<Response<CompleteCallbackResponse>, Status> {
        let principal = request.principal()?.clone();
        work::complete(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_assignment_summary(
        &self,
        request: Request<GetAssignmentSummaryRequest>,
    ) -> Result<Response<GetAssignmentSummaryResponse>, Status> {
        let principal = request.principal()?.clone();
        assign::summary(self, &principal, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_candidate_agents(
        &self,
        request: Request<ListCandidateAgentsRequest>,
    ) -> Result<Response<ListCandidateAgentsResponse>, Status> {
        let principal = request.principal()?.clone();
        assign::candidates(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn assign_evenly(
        &self,
        request: Request<AssignEvenlyRequest>,
    ) -> Result<Response<AssignEvenlyResponse>, Status> {
        let principal = request.principal()?.clone();
        assign::evenly(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn assign_manually(
        &self,
        request: Request<AssignManuallyRequest>,
    ) -> Result<Response<AssignManuallyResponse>, Status> {
        let principal = request.principal()?.clone();
        assign::manually(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn cancel_assignment(
        &self,
        request: Request<CancelAssignmentRequest>,
    ) -> Result<Response<CancelAssignmentResponse>, Status> {
        let principal = request.principal()?.clone();
        assign::cancel(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_unfinished_counts(
        &self,
        request: Request<ListUnfinishedCountsRequest>,
    ) -> Result<Response<ListUnfinishedCountsResponse>, Status> {
        let principal = request.principal()?.clone();
        assign::unfinished(self, &principal, request.into_inner())
            .await
            .map(Response::new)
    }

    type ExportCallbacksStream = ExportStream;

    async fn export_callbacks(
        &self,
        request: Request<ExportCallbacksRequest>,
    ) -> Result<Response<Self::ExportCallbacksStream>, Status> {
        let principal = request.principal()?.clone();
        export::start(self, &principal, request.into_inner())
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
        let principal = request.principal()?.clone();
        self.create(&principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_ivr_route(
        &self,
        request: Request<GetIvrRouteRequest>,
    ) -> Result<Response<GetIvrRouteResponse>, Status> {
        let principal = request.principal()?.clone();
        self.get(&principal, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn list_ivr_routes(
        &self,
        request: Request<ListIvrRoutesRequest>,
    ) -> Result<Response<ListIvrRoutesResponse>, Status> {
        let principal = request.principal()?.clone();
        self.list(&principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn update_ivr_route(
        &self,
        request: Request<UpdateIvrRouteRequest>,
    ) -> Result<Response<UpdateIvrRouteResponse>, Status> {
        let principal = request.principal()?.clone();
        self.update(&principal, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn delete_ivr_route(
        &self,
        request: Request<DeleteIvrRouteRequest>,
    ) -> Result<Response<DeleteIvrRouteResponse>, Status> {
        let principal = request.principal()?.clone();
        self.delete(&principal, request.get_ref())
            .await
            .map(Response::new)
    }
}
