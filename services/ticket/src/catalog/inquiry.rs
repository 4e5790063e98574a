//! `InquiryTypeService` (접수유형): the shared list handlers under the inquiry types' names.

use prost::Message;
use switchboard_platform::request::PrincipalAndBody;
use switchboard_proto::ticket::v1::{inquiry_type_service_server::InquiryTypeService, *};
use tonic::{Request, Response, Status};

use super::api::CatalogApi;

#[tonic::async_trait]
impl InquiryTypeService for CatalogApi<InquiryType> {
    async fn create_inquiry_type(
        &self,
        request: Request<CreateInquiryTypeRequest>,
    ) -> Result<Response<CreateInquiryTypeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let created = self
            .create(
                &principal,
                &request,
                &request.request_id,
                request.inquiry_type.clone(),
            )
            .await?;
        Ok(Response::new(CreateInquiryTypeResponse {
            inquiry_type: Some(created),
        }))
    }

    async fn get_inquiry_type(
        &self,
        request: Request<GetInquiryTypeRequest>,
    ) -> Result<Response<GetInquiryTypeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let found = self
            .get(&principal, "inquiry_type_id", &request.inquiry_type_id)
            .await?;
        Ok(Response::new(GetInquiryTypeResponse {
            inquiry_type: Some(found),
        }))
    }

    async fn list_inquiry_types(
        &self,
        request: Request<ListInquiryTypesRequest>,
    ) -> Result<Response<ListInquiryTypesResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let filters = ListInquiryTypesRequest {
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
        Ok(Response::new(ListInquiryTypesResponse {
            inquiry_types: page.entries,
            next_page_token: page.next_page_token,
            total_size: page.total_size,
        }))
    }

    async fn update_inquiry_type(
        &self,
        request: Request<UpdateInquiryTypeRequest>,
    ) -> Result<Response<UpdateInquiryTypeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let updated = self
            .update(&principal, request.inquiry_type, &paths)
            .await?;
        Ok(Response::new(UpdateInquiryTypeResponse {
            inquiry_type: Some(updated),
        }))
    }

    async fn delete_inquiry_type(
        &self,
        request: Request<DeleteInquiryTypeRequest>,
    ) -> Result<Response<DeleteInquiryTypeResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.delete(&principal, "inquiry_type_id", &request.inquiry_type_id)
            .await?;
        Ok(Response::new(DeleteInquiryTypeResponse {}))
    }
}
