//! `GetReadModelStatus`: how fresh each model is (the same age the lag metric exports).

use chrono::Utc;
use switchboard_platform::error::quote;
use switchboard_platform::time::timestamp;
use switchboard_proto::reporting::v1::{GetReadModelStatusResponse, ReadModelStatus};
use tonic::Status;

use super::ReportingApi;
use crate::store::status::{self, MODELS, ModelStatus};

pub async fn get(api: &ReportingApi, name: &str) -> Result<GetReadModelStatusResponse, Status> {
    let name = name.trim();
    let names: Vec<&str> = if name.is_empty() {
        MODELS.to_vec()
    } else if MODELS.contains(&name) {
        vec![name]
    } else {
        return Err(Status::not_found(format!(
            "no read model named {}; the models are: {}",
            quote(name),
            MODELS.join(", ")
        )));
    };
    let mut read_models = Vec::with_capacity(names.len());
    for name in names {
        let model = status::get(&api.pool, name).await?;
        read_models.push(message(name, model));
    }
    Ok(GetReadModelStatusResponse { read_models })
}

fn message(name: &str, model: Option<ModelStatus>) -> ReadModelStatus {
    let model = model.unwrap_or(ModelStatus {
        name: name.to_owned(),
        time_zone: String::new(),
        newest_event_time: None,
        last_apply_time: None,
        applied_event_count: 0,
    });
    let age = model.newest_event_time.map(|newest| {
        let age = (Utc::now() - newest).max(chrono::TimeDelta::zero());
        prost_types::Duration {
            seconds: age.num_seconds(),
            nanos: age.subsec_nanos(),
        }
    });
    ReadModelStatus {
        name: model.name,
        newest_event_time: model.newest_event_time.map(timestamp),
        age,
        last_apply_time: model.last_apply_time.map(timestamp),
        applied_event_count: model.applied_event_count,
    }
}
