//! Inquiry types (접수유형) and processing types (처리유형): two admin-managed lists of one shape,
//! served by one implementation (`api.rs`) behind two thin tonic services.

mod api;
mod entry;
pub mod fields;
mod inquiry;
pub mod lookup;
mod processing;
mod store;

use sqlx::PgPool;
use switchboard_proto::ticket::v1::{
    InquiryType, ProcessingType, inquiry_type_service_server::InquiryTypeServiceServer,
    processing_type_service_server::ProcessingTypeServiceServer,
};

use self::api::CatalogApi;

/// `InquiryTypeService` on the service's pool.
pub fn inquiry_types(pool: PgPool) -> InquiryTypeServiceServer<CatalogApi<InquiryType>> {
    InquiryTypeServiceServer::new(CatalogApi::new(pool))
}

/// `ProcessingTypeService` on the service's pool.
pub fn processing_types(pool: PgPool) -> ProcessingTypeServiceServer<CatalogApi<ProcessingType>> {
    ProcessingTypeServiceServer::new(CatalogApi::new(pool))
}
