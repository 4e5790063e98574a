//! The gRPC handlers of `ReportingService`. Every method checks the verified principal (admin,
//! or a service with `reporting:read`) itself, whatever the gateway already checked, and reads
//! only the reporting service's own models.

mod export;
mod freshness;
mod processing;
mod tickets;
mod unfinished;

use std::pin::Pin;

use chrono_tz::Tz;
use futures_util::Stream;
use sqlx::PgPool;
use switchboard_platform::{
    business_hours::Schedule,
    error::{FieldViolations, nested_fields},
    principal::RequestPrincipal,
    request::require_admin_or_scope,
};
use switchboard_proto::common::v1::Principal;
use switchboard_proto::reporting::v1::{reporting_service_server::ReportingService, *};
use tonic::{Request, Response, Status};

/// The scope of services and API keys that read reports.
pub const READ_SCOPE: &str = "reporting:read";

use self::tickets::{Audience, Fields, TicketQuery, export::Exported};
use crate::calendars::{Calendars, calendar_id};

#[derive(Clone)]
pub struct ReportingApi {
    pool: PgPool,
    zone: Tz,
    /// The trigger engine's calendars; `None` when no address is configured for it.
    calendars: Option<Calendars>,
}

impl ReportingApi {
    pub fn new(pool: PgPool, zone: Tz, calendars: Option<Calendars>) -> Self {
        Self {
            pool,
            zone,
            calendars,
        }
    }

    fn calendars(&self) -> Result<&Calendars, Status> {
        self.calendars.as_ref().ok_or_else(|| {
            Status::unavailable("no trigger engine is configured, so no business-hours calendar")
        })
    }

    /// The schedule a times request names in `business_hours_id` (`None` for wall-clock
    /// times), its id checked first.
    pub async fn schedule(&self, business_hours_id: &str) -> Result<Option<Schedule>, Status> {
        match calendar_id(business_hours_id)? {
            None => Ok(None),
            Some(id) => Ok(Some(self.calendars()?.schedule(id).await?)),
        }
    }
}

/// Reads a ticket report's shared fields of `body` for `principal`; `extra` checks what one
/// report adds.
fn ticket_query<T>(
    principal: &Principal,
    body: &T,
    fields: impl FnOnce(&T) -> Fields<'_>,
    extra: impl FnOnce(&TicketQuery, &mut FieldViolations),
) -> Result<TicketQuery, Status> {
    let audience = Audience::of(principal)?;
    let mut violations = FieldViolations::new();
    let query = tickets::read(fields(body), &audience, &mut violations)?;
    if let Some(query) = &query {
        extra(query, &mut violations);
    }
    violations.into_result()?;
    query.ok_or_else(|| Status::internal("a bad period without a violation"))
}

fn volume_fields(r: &GetTicketVolumeReportRequest) -> Fields<'_> {
    Fields {
        period: r.period.as_ref(),
        granularity: r.granularity,
        filter: r.filter.as_ref(),
        dimension: r.dimension,
    }
}

fn backlog_fields(r: &GetTicketBacklogReportRequest) -> Fields<'_> {
    Fields {
        period: r.period.as_ref(),
        granularity: r.granularity,
        filter: r.filter.as_ref(),
        dimension: r.dimension,
    }
}

fn times_fields(r: &GetTicketTimesReportRequest) -> Fields<'_> {
    Fields {
        period: r.period.as_ref(),
        granularity: r.granularity,
        filter: r.filter.as_ref(),
        dimension: r.dimension,
    }
}

fn no_check(_: &TicketQuery, _: &mut FieldViolations) {}

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

    async fn get_ticket_volume_report(
        &self,
        request: Request<GetTicketVolumeReportRequest>,
    ) -> Result<Response<GetTicketVolumeReportResponse>, Status> {
        let query = ticket_query(
            request.principal()?,
            request.get_ref(),
            volume_fields,
            no_check,
        )?;
        tickets::volume::report(self, &query)
            .await
            .map(Response::new)
    }

    async fn get_ticket_backlog_report(
        &self,
        request: Request<GetTicketBacklogReportRequest>,
    ) -> Result<Response<GetTicketBacklogReportResponse>, Status> {
        let query = ticket_query(
            request.principal()?,
            request.get_ref(),
            backlog_fields,
            tickets::backlog::check,
        )?;
        tickets::backlog::report(self, &query)
            .await
            .map(Response::new)
    }

    async fn get_ticket_times_report(
        &self,
        request: Request<GetTicketTimesReportRequest>,
    ) -> Result<Response<GetTicketTimesReportResponse>, Status> {
        let query = ticket_query(
            request.principal()?,
            request.get_ref(),
            times_fields,
            no_check,
        )?;
        let calendar = &request.get_ref().business_hours_id;
        tickets::times::report(self, &query, calendar)
            .await
            .map(Response::new)
    }

    type ExportTicketReportStream = tickets::export::TicketExportStream;

    async fn export_ticket_report(
        &self,
        request: Request<ExportTicketReportRequest>,
    ) -> Result<Response<Self::ExportTicketReportStream>, Status> {
        use export_ticket_report_request::Report;
        // Each report is read as its own rpc reads it.
        let principal = request.principal()?;
        let (query, exported) = match &request.get_ref().report {
            None => {
                return Err(switchboard_platform::error::invalid_field(
                    "report",
                    "is required: volume, backlog or times",
                ));
            }
            Some(Report::Volume(r)) => (
                ticket_query(principal, r, volume_fields, no_check)
                    .map_err(|s| nested_fields(s, "volume"))?,
                Exported::Volume,
            ),
            Some(Report::Backlog(r)) => (
                ticket_query(principal, r, backlog_fields, tickets::backlog::check)
                    .map_err(|s| nested_fields(s, "backlog"))?,
                Exported::Backlog,
            ),
            Some(Report::Times(r)) => {
                let query = ticket_query(principal, r, times_fields, no_check)
                    .map_err(|s| nested_fields(s, "times"))?;
                let schedule = self
                    .schedule(&r.business_hours_id)
                    .await
                    .map_err(|s| nested_fields(s, "times"))?;
                (query, Exported::Times(schedule.map(Box::new)))
            }
        };
        tickets::export::start(self, query, exported)
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
