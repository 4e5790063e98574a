//! `TriggerService` over [`TriggerApi`] and [`DryRun`]: each rpc reads the verified principal
//! and hands its request on.

use switchboard_platform::request::PrincipalAndBody;
use switchboard_proto::trigger::v1::{trigger_service_server::TriggerService, *};
use tonic::{Request, Response, Status};

use super::api::TriggerApi;
use crate::dry_run::DryRun;

#[derive(Clone)]
pub struct TriggerServer {
    pub api: TriggerApi,
    pub dry_run: DryRun,
}

#[tonic::async_trait]
impl TriggerService for TriggerServer {
    async fn create_trigger(
        &self,
        request: Request<CreateTriggerRequest>,
    ) -> Result<Response<CreateTriggerResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.api
            .create(&principal, request)
            .await
            .map(Response::new)
    }

    async fn get_trigger(
        &self,
        request: Request<GetTriggerRequest>,
    ) -> Result<Response<GetTriggerResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let trigger = self.api.get(&principal, &request.trigger_id).await?;
        Ok(Response::new(GetTriggerResponse {
            trigger: Some(trigger),
        }))
    }

    async fn list_triggers(
        &self,
        request: Request<ListTriggersRequest>,
    ) -> Result<Response<ListTriggersResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.api.list(&principal, request).await.map(Response::new)
    }

    async fn update_trigger(
        &self,
        request: Request<UpdateTriggerRequest>,
    ) -> Result<Response<UpdateTriggerResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let trigger = self.api.update(&principal, request).await?;
        Ok(Response::new(UpdateTriggerResponse {
            trigger: Some(trigger),
        }))
    }

    async fn delete_trigger(
        &self,
        request: Request<DeleteTriggerRequest>,
    ) -> Result<Response<DeleteTriggerResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.api.delete(&principal, &request.trigger_id).await?;
        Ok(Response::new(DeleteTriggerResponse {}))
    }

    async fn reorder_triggers(
        &self,
        request: Request<ReorderTriggersRequest>,
    ) -> Result<Response<ReorderTriggersResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let triggers = self.api.reorder(&principal, request).await?;
        Ok(Response::new(ReorderTriggersResponse { triggers }))
    }

    async fn test_triggers(
        &self,
        request: Request<TestTriggersRequest>,
    ) -> Result<Response<TestTriggersResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.dry_run
            .test(&principal, request)
            .await
            .map(Response::new)
    }
}
