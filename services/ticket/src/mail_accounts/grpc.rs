//! `MailAccountService` (대표메일 계정) over [`MailAccountApi`]: each rpc reads the verified
//! principal and hands its request on.

use switchboard_platform::request::PrincipalAndBody;
use switchboard_proto::ticket::v1::{mail_account_service_server::MailAccountService, *};
use tonic::{Request, Response, Status};

use super::api::MailAccountApi;

#[tonic::async_trait]
impl MailAccountService for MailAccountApi {
    async fn create_mail_account(
        &self,
        request: Request<CreateMailAccountRequest>,
    ) -> Result<Response<CreateMailAccountResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.create(&principal, request).await.map(Response::new)
    }

    async fn get_mail_account(
        &self,
        request: Request<GetMailAccountRequest>,
    ) -> Result<Response<GetMailAccountResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let account = self.get(&principal, &request.mail_account_id).await?;
        Ok(Response::new(GetMailAccountResponse {
            mail_account: Some(account),
        }))
    }

    async fn list_mail_accounts(
        &self,
        request: Request<ListMailAccountsRequest>,
    ) -> Result<Response<ListMailAccountsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.list(&principal, request).await.map(Response::new)
    }

    async fn update_mail_account(
        &self,
        request: Request<UpdateMailAccountRequest>,
    ) -> Result<Response<UpdateMailAccountResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let account = self.update(&principal, request).await?;
        Ok(Response::new(UpdateMailAccountResponse {
            mail_account: Some(account),
        }))
    }

    async fn delete_mail_account(
        &self,
        request: Request<DeleteMailAccountRequest>,
    ) -> Result<Response<DeleteMailAccountResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.delete(&principal, &request.mail_account_id).await?;
        Ok(Response::new(DeleteMailAccountResponse {}))
    }
}
