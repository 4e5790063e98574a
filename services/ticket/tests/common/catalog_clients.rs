//! Clients of the admin-managed lists (inquiry and processing types, templates, mail
//! accounts) through the gateway, and the assertions their tests share.

use std::fmt::Debug;

use switchboard_platform::error::violated_fields;
use switchboard_proto::ticket::v1::{
    inquiry_type_service_client::InquiryTypeServiceClient,
    mail_account_service_client::MailAccountServiceClient,
    processing_type_service_client::ProcessingTypeServiceClient,
    template_service_client::TemplateServiceClient,
};
use tonic::{Code, Status, transport::Channel};

use super::Mesh;

impl Mesh {
    pub async fn inquiry_types(&self) -> InquiryTypeServiceClient<Channel> {
        InquiryTypeServiceClient::new(self.gateway.channel().await)
    }

    pub async fn processing_types(&self) -> ProcessingTypeServiceClient<Channel> {
        ProcessingTypeServiceClient::new(self.gateway.channel().await)
    }

    pub async fn templates(&self) -> TemplateServiceClient<Channel> {
        TemplateServiceClient::new(self.gateway.channel().await)
    }

    pub async fn mail_accounts(&self) -> MailAccountServiceClient<Channel> {
        MailAccountServiceClient::new(self.gateway.channel().await)
    }
}

/// The status of a call that must fail with `code`.
#[track_caller]
pub fn refused<T: Debug>(result: Result<T, Status>, code: Code) -> Status {
    match result {
        Ok(value) => panic!("expected {code:?}, got {value:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "{status:?}");
            status
        }
    }
}

/// The status of a call that must be INVALID_ARGUMENT naming exactly `fields`.
#[track_caller]
pub fn invalid<T: Debug>(result: Result<T, Status>, fields: &[&str]) -> Status {
    let status = refused(result, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), fields, "{status:?}");
    status
}
