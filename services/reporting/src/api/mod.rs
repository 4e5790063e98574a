//! The gRPC handlers of `ReportingService`. Every method checks the verified principal (admin,
//! or a service with `reporting:read`) itself, whatever the gateway already checked, and reads
//! only the reporting service's own models.

mod export;
mod freshness;
mod processing;
mod unfinished;

use std::pin::Pin;

use chrono_tz::Tz;
use futures_util::Stream;
use sqlx::PgPool;
use switchboard_platform::{principal::RequestPrincipal, request::require_admin_or_scope};
use switchboard_proto::reporting::v1::{reporting_service_server::ReportingService, *};
use tonic::{Request, Response, Status};

/// The scope of services and API keys that read reports.
pub const READ_SCOPE: &str = "reporting:read";

#[derive(Clone)]
pub struct ReportingApi {
    pool: PgPool,
    zone: Tz,
}

impl ReportingApi {
    pub fn new(pool: PgPool, zone: Tz) -> Self {
        Self { pool, zone }
    }
}

/// `PERMISSION_DENIED` unless the caller is an admin or has the reading scope.
fn authorize<T>(request: &Request<T>) -> Result<(), Status> {
    require_admin_or_scope(request.principal()?, READ_SCOPE)
}

type ExportStream =
    Pin<Box<dyn Stream<Item = Result<ExportCallbackProcessingStatusResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ReportingService for ReportingApi {
    async fn get_callback_processing_status(
        &self,
        request: Request<GetCallbackProcessingStatusRequest>,
    ) -> Result<Response<GetCallbackProcessingStatusResponse>, Status> {
        authorize(&request)?;
        let query = processing::StatusQuery::read(request.get_ref())?;
        processing::report(self, &query).await.map(Response::new)
    }

    type ExportCallbackProcessingStatusStream = ExportStream;

    async fn export_callback_processing_status(
        &self,
        request: Request<ExportCallbackProcessingStatusRequest>,
    ) -> Result<Response<ExportStream>, Status> {
        authorize(&request)?;
        // The export asks the same question as the report, in a message of the same fields.
        let ExportCallbackProcessingStatusRequest {
            period,
            granularity,
            ivr_route_ids,
            assignee,
        } = request.into_inner();
        let query = processing::StatusQuery::read(&GetCallbackProcessingStatusRequest {
            period,
            granularity,
            ivr_route_ids,
            assignee,
        })?;
        export::start(self, query).await.map(Response::new)
    }

    async fn list_unfinished_callbacks_per_agent(
        &self,
        request: Request<ListUnfinishedCallbacksPerAgentRequest>,
    ) -> Result<Response<ListUnfinishedCallbacksPerAgentResponse>, Status> {
        authorize(&request)?;
        unfinished::list(self, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_read_model_status(
        &self,
        request: Request<GetReadModelStatusRequest>,
    ) -> Result<Response<GetReadModelStatusResponse>, Status> {
        authorize(&request)?;
        freshness::get(self, &request.get_ref().name)
            .await
            .map(Response::new)
    }
}
