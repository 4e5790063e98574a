//! `TemplateService` (템플릿) over [`TemplateApi`]: each rpc reads the verified principal and
//! hands its request on.

use switchboard_platform::request::PrincipalAndBody;
use switchboard_proto::ticket::v1::{template_service_server::TemplateService, *};
use tonic::{Request, Response, Status};

use super::api::TemplateApi;

#[tonic::async_trait]
impl TemplateService for TemplateApi {
    async fn create_template(
        &self,
        request: Request<CreateTemplateRequest>,
    ) -> Result<Response<CreateTemplateResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.create(&principal, request).await.map(Response::new)
    }

    async fn get_template(
        &self,
        request: Request<GetTemplateRequest>,
    ) -> Result<Response<GetTemplateResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let template = self.get(&principal, &request.template_id).await?;
        Ok(Response::new(GetTemplateResponse {
            template: Some(template),
        }))
    }

    async fn list_templates(
        &self,
        request: Request<ListTemplatesRequest>,
    ) -> Result<Response<ListTemplatesResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.list(&principal, request).await.map(Response::new)
    }

    async fn update_template(
        &self,
        request: Request<UpdateTemplateRequest>,
    ) -> Result<Response<UpdateTemplateResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let template = self.update(&principal, request).await?;
        Ok(Response::new(UpdateTemplateResponse {
            template: Some(template),
        }))
    }

    async fn delete_template(
        &self,
        request: Request<DeleteTemplateRequest>,
    ) -> Result<Response<DeleteTemplateResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.delete(&principal, &request.template_id).await?;
        Ok(Response::new(DeleteTemplateResponse {}))
    }

    async fn render_template(
        &self,
        request: Request<RenderTemplateRequest>,
    ) -> Result<Response<RenderTemplateResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.render(&principal, &request).await.map(Response::new)
    }
}
