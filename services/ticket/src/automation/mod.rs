//! `TicketAutomationService` (ticket_automation.proto): how the trigger engine changes tickets,
//! a run applied once and only at the ticket version it was computed from, and the open-ticket
//! counts it distributes by. Its callers are services with the `tickets:automate` scope.

mod apply;
mod notify;
mod open_counts;
mod run;
pub(crate) mod runs;
mod throttle;
mod validate;

use switchboard_platform::request::PrincipalAndBody;
use switchboard_proto::ticket::v1::{
    ApplyTriggerRunRequest, ApplyTriggerRunResponse, CountOpenTicketsRequest,
    CountOpenTicketsResponse, ticket_automation_service_server::TicketAutomationService,
};
use tonic::{Request, Response, Status};

use crate::tickets::TicketApi;

#[derive(Clone)]
pub struct AutomationApi {
    tickets: TicketApi,
}

impl AutomationApi {
    pub fn new(tickets: TicketApi) -> Self {
        Self { tickets }
    }
}

#[tonic::async_trait]
impl TicketAutomationService for AutomationApi {
    async fn apply_trigger_run(
        &self,
        request: Request<ApplyTriggerRunRequest>,
    ) -> Result<Response<ApplyTriggerRunResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        run::apply_run(&self.tickets, &principal, request)
            .await
            .map(Response::new)
    }

    async fn count_open_tickets(
        &self,
        request: Request<CountOpenTicketsRequest>,
    ) -> Result<Response<CountOpenTicketsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        open_counts::count(&self.tickets.pool, &principal, request)
            .await
            .map(Response::new)
    }
}
