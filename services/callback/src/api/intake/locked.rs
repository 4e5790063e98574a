//! A push in a transaction of its own, for what the one statement leaves to it: attaching a
//! repeat request to the number's open callback (docs/product.md §2.1). Anything may have
//! changed since the statement looked, so everything is checked again under the same locks:
//! the call id may have been pushed meanwhile, and the open callback completed.

use chrono::{DateTime, Utc};
use switchboard_platform::db;
use switchboard_proto::{
    callback::v1::{CreateCallbackResponse, IntakeDisposition, RepeatRequestPolicy},
    common::v1::Actor,
};
use tonic::Status;

use super::{Push, conflict, new_callback, replayed, request_time};
use crate::{
    api::{
        CallbackApi,
        announce::{Happened, announce, next_version},
    },
    store::{
        RouteRow, callbacks,
        intake::{self, IntakeRow},
    },
};

pub async fn push(
    api: &CallbackApi,
    push: &Push,
    route: &RouteRow,
    body_hash: Vec<u8>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<CreateCallbackResponse, Status> {
    let mut tx = db::begin(&api.pool).await?;
    callbacks::lock_intake(&mut tx, &push.ivr_call_id, route.id, &push.phone.e164).await?;
    if let Some(earlier) = intake::get(&mut tx, &push.ivr_call_id).await? {
        let same_time = push.request_time.is_none_or(|t| t == earlier.request_time);
        if earlier.body_hash != body_hash || !same_time {
            return Err(conflict(&push.ivr_call_id));
        }
        return replayed(&mut tx, earlier.callback_id, earlier.disposition).await;
    }

    let request_time = request_time(push, now);
    let open = if route.policy() == RepeatRequestPolicy::Attach {
        callbacks::lock_open_for_phone(&mut tx, route.id, &push.phone.e164).await?
    } else {
        None
    };
    let (callback, disposition) = match open {
        Some(mut callback) => {
            let before = callback.clone();
            callback.request_count += 1;
            callback.last_request_time = callback.last_request_time.max(request_time);
            next_version(&mut callback, now);
            callbacks::save(&mut tx, &callback).await?;
            let happened = Happened::RequestRepeated {
                ivr_call_id: &push.ivr_call_id,
                request_time,
            };
            announce(&mut tx, Some(&before), &callback, happened, actor).await?;
            (callback, IntakeDisposition::Attached)
        }
        None => {
            let callback = new_callback(push, route, now);
            callbacks::insert(&mut tx, &callback).await?;
            announce(&mut tx, None, &callback, Happened::Registered, actor).await?;
            (callback, IntakeDisposition::Created)
        }
    };
    let record = IntakeRow {
        body_hash,
        request_time,
        callback_id: callback.id,
        disposition: disposition as i16,
    };
    intake::insert(&mut tx, &push.ivr_call_id, &record).await?;
    db::commit(tx).await?;
    Ok(CreateCallbackResponse {
        callback: Some(callback.to_proto()),
        disposition: disposition as i32,
        replayed: false,
    })
}
