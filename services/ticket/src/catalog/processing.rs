//! `ProcessingTypeService` (처리유형): the shared list handlers under the processing types' names.

use prost::Message;
use switchboard_platform::request::PrincipalAndBody;
use switchboard_proto::ticket::v1::{processing_type_service_server::ProcessingTypeService, *};
use tonic::{Request, Response, Status};

use super::api::CatalogApi;

#[tonic::async_trait]
impl ProcessingTypeService for CatalogApi<ProcessingType> {
    async fn create_processing_type(
        &self,
        request: Request<CreateProcessingTypeRequest>,
    ) -> Result<Response<CreateProcessingTypeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let created = self
            .create(
                &principal,
                &request,
                &request.request_id,
                request.processing_type.clone(),
            )
            .await?;
        Ok(Response::new(CreateProcessingTypeResponse {
            processing_type: Some(created),
        }))
    }

    async fn get_processing_type(
        &self,
        request: Request<GetProcessingTypeRequest>,
    ) -> Result<Response<GetProcessingTypeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let found = self
            .get(
                &principal,
                "processing_type_id",
                &request.processing_type_id,
            )
            .await?;
        Ok(Response::new(GetProcessingTypeResponse {
            processing_type: Some(found),
        }))
    }

    async fn list_processing_types(
        &self,
        request: Request<ListProcessingTypesRequest>,
    ) -> Result<Response<ListProcessingTypesResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let filters = ListProcessingTypesRequest {
            page_size: 0,
            page_token: String::new(),
            ..request.clone()
        }
        .encode_to_vec();
        let page = self
            .list(
                &principal,
                request.active_only,
                request.page_size,
                &request.page_token,
                &filters,
            )
            .await?;
        Ok(Response::new(ListProcessingTypesResponse {
            processing_types: page.entries,
            next_page_token: page.next_page_token,
            total_size: page.total_size,
        }))
    }

    async fn update_processing_type(
        &self,
        request: Request<UpdateProcessingTypeRequest>,
    ) -> Result<Response<UpdateProcessingTypeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let updated = self
            .update(&principal, request.processing_type, &paths)
            .await?;
        Ok(Response::new(UpdateProcessingTypeResponse {
            processing_type: Some(updated),
        }))
    }

    async fn delete_processing_type(
        &self,
        request: Request<DeleteProcessingTypeRequest>,
    ) -> Result<Response<DeleteProcessingTypeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.delete(
            &principal,
            "processing_type_id",
            &request.processing_type_id,
        )
        .await?;
        Ok(Response::new(DeleteProcessingTypeResponse {}))
    }
}
