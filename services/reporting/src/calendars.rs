//! The business-hours calendars the times report measures in, read from the trigger engine's
//! `BusinessHoursService` as the reporting service's own principal (scope
//! `business_hours:read`).

use std::time::Duration;

use chrono_tz::Tz;
use switchboard_platform::{
    business_hours::Schedule, error::invalid_field, grpc::MeshInterceptor, principal::PrincipalKey,
    request::parse_uuid,
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    trigger::v1::{
        GetBusinessHoursRequest, business_hours_service_client::BusinessHoursServiceClient,
    },
};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

/// The field that names a calendar in the times report's request.
const FIELD: &str = "business_hours_id";

#[derive(Clone)]
pub struct Calendars {
    client: BusinessHoursServiceClient<InterceptedService<Channel, MeshInterceptor>>,
    default_zone: Tz,
}

impl Calendars {
    /// A client of the trigger engine at `url`, connecting when first used; an empty zone in a
    /// calendar means `default_zone` (the center's).
    pub fn new(url: &str, key: PrincipalKey, default_zone: Tz) -> anyhow::Result<Self> {
        let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .connect_lazy();
        let principal = Principal {
            subject: "reporting".into(),
            kind: PrincipalKind::Service as i32,
            scopes: vec!["business_hours:read".into()],
            display_name: "reporting service".into(),
            ..Default::default()
        };
        let interceptor = MeshInterceptor::with_principal(key, principal, Duration::from_secs(60));
        Ok(Self {
            client: BusinessHoursServiceClient::new(InterceptedService::new(channel, interceptor)),
            default_zone,
        })
    }

    /// The schedule of calendar `uuid` (see [`calendar_id`]): NOT_FOUND naming the field, or
    /// UNAVAILABLE when the trigger engine cannot answer.
    pub async fn schedule(&self, uuid: Uuid) -> Result<Schedule, Status> {
        let answer = self
            .client
            .clone()
            .get_business_hours(GetBusinessHoursRequest {
                business_hours_id: uuid.to_string(),
            })
            .await;
        match answer {
            Ok(response) => {
                let hours = response.into_inner().business_hours.unwrap_or_default();
                Ok(Schedule::from_proto(&hours, self.default_zone))
            }
            Err(status) if status.code() == Code::NotFound => Err(Status::not_found(format!(
                "{FIELD}: no business-hours calendar {uuid}"
            ))),
            Err(status) => {
                tracing::warn!(%status, "the trigger engine did not give a calendar");
                Err(Status::unavailable(
                    "the business-hours calendars cannot be read now; try again later",
                ))
            }
        }
    }
}

/// The calendar a times request names in `id`, checked before any calendar is asked for (bad
/// input is named even when no trigger engine is configured): `None` for wall-clock times,
/// INVALID_ARGUMENT naming the field when it is not a UUID.
pub fn calendar_id(id: &str) -> Result<Option<Uuid>, Status> {
    match id {
        "" => Ok(None),
        id => parse_uuid(id)
            .map(Some)
            .ok_or_else(|| invalid_field(FIELD, "must be a UUID")),
    }
}
