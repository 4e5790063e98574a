//! The outer bound on request strings, in front of every handler: a unary request message with a
//! string longer than its bound (the contract's, where one is larger than the default, else
//! [`MAX_STRING_CHARS`]) is `INVALID_ARGUMENT` naming every such field by its path
//! (`callback.memo`, `logins[3]`), before any handler reads it or quotes it back. Handlers keep
//! their own, tighter rules (`phone_number`, `memo`'s 1,000 characters); this bound only makes
//! sure no absurd value gets that far (docs/architecture.md §3, "Errors name the field").
//!
//! The request's first message is read from the body (up to [`MAX_INSPECTED_BYTES`]; compressed
//! or larger messages, and streaming requests, pass unread) and handed on unchanged.

use std::{
    collections::{HashMap, VecDeque},
    pin::Pin,
    sync::LazyLock,
    task::{Context, Poll},
};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, MessageDescriptor, Value};
use tonic::{Status, body::Body};
use tower_layer::Layer;
use tower_service::Service;

use crate::error::FieldViolations;

/// The bound on a request string whose contract states no larger one.
pub const MAX_STRING_CHARS: usize = 8_192;

/// Fields whose contract allows more than [`MAX_STRING_CHARS`] (full field names).
const LARGER_BOUNDS: &[(&str, usize)] = &[
    (
        "switchboard.inbound.v1.SubmitHelpCenterInquiryRequest.body",
        100_000,
    ),
    (
        "switchboard.inbound.v1.SubmitChannelMessageRequest.text",
        100_000,
    ),
];

/// Request messages larger than this are not inspected (the message limits still apply).
pub const MAX_INSPECTED_BYTES: usize = 4 * 1024 * 1024;

/// The input message of every rpc whose request is one message, by gRPC path.
static UNARY_INPUTS: LazyLock<HashMap<String, MessageDescriptor>> = LazyLock::new(|| {
    let Ok(pool) = DescriptorPool::decode(switchboard_proto::FILE_DESCRIPTOR_SET) else {
        tracing::error!("the API's descriptor set does not decode; request strings go unchecked");
        return HashMap::new();
    };
    pool.services()
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .filter(|method| !method.is_client_streaming())
        .map(|method| {
            let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
            (path, method.input())
        })
        .collect()
});

/// The bound of a string field.
pub fn max_chars_of(field: &FieldDescriptor) -> usize {
    LARGER_BOUNDS
        .iter()
        .find(|(name, _)| *name == field.full_name())
        .map_or(MAX_STRING_CHARS, |(_, max)| *max)
}

/// Every string of `message` over its bound, named by its path below `path`.
pub fn check_strings(message: &DynamicMessage, violations: &mut FieldViolations) {
    walk_message(message, "", violations);
}

fn walk_message(message: &DynamicMessage, path: &str, violations: &mut FieldViolations) {
    for (field, value) in message.fields() {
        let name = if path.is_empty() {
            field.name().to_owned()
        } else {
            format!("{path}.{}", field.name())
        };
        walk_value(&field, value, &name, violations);
    }
}

fn walk_value(
    field: &FieldDescriptor,
    value: &Value,
    name: &str,
    violations: &mut FieldViolations,
) {
    match value {
        Value::String(text) => {
            violations.max_chars(name, text, max_chars_of(field));
        }
        Value::Message(message) => walk_message(message, name, violations),
        Value::List(items) => {
            for (index, item) in items.iter().enumerate() {
                walk_value(field, item, &format!("{name}[{index}]"), violations);
            }
        }
        Value::Map(entries) => {
            for (key, item) in entries {
                if let prost_reflect::MapKey::String(key) = key {
                    violations.max_chars(name, key, MAX_STRING_CHARS);
                }
                walk_value(field, item, name, violations);
            }
        }
        _ => {}
    }
}

/// Bounds the strings of every unary request message.
#[derive(Debug, Clone, Default)]
pub struct StringBoundsLayer;

impl<S> Layer<S> for StringBoundsLayer {
    type Service = StringBounds<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StringBounds { inner }
    }
}

#[derive(Debug, Clone)]
pub struct StringBounds<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for StringBounds<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let Some(input) = UNARY_INPUTS.get(request.uri().path()).cloned() else {
            return Box::pin(self.inner.call(request));
        };
        // The ready service answers this call; a clone waits for the next (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let (replayed, message) = read_first_message(body).await;
            if let Some(message) = message
                && let Ok(message) = DynamicMessage::decode(input, message)
            {
                let mut violations = FieldViolations::new();
                check_strings(&message, &mut violations);
                if !violations.is_empty() {
                    return Ok(violations.into_status().into_http());
                }
            }
            inner
                .call(http::Request::from_parts(parts, Body::new(replayed)))
                .await
        })
    }
}

/// Reads `body` until its first gRPC message is whole; the frames read (to hand on unchanged)
/// and the message, when it is uncompressed and within [`MAX_INSPECTED_BYTES`].
async fn read_first_message(mut body: Body) -> (Replayed, Option<Bytes>) {
    let mut replayed = Replayed {
        frames: VecDeque::new(),
        error: None,
        rest: None,
    };
    let mut seen = BytesMut::new();
    loop {
        if seen.len() >= 5 {
            let compressed = seen[0] != 0;
            let length = u32::from_be_bytes([seen[1], seen[2], seen[3], seen[4]]) as usize;
            if compressed || length > MAX_INSPECTED_BYTES {
                replayed.rest = Some(body);
                return (replayed, None);
            }
            if seen.len() >= 5 + length {
                replayed.rest = Some(body);
                let message = seen.split_off(5).split_to(length).freeze();
                return (replayed, Some(message));
            }
        }
        match body.frame().await {
            None => return (replayed, None),
            Some(Err(error)) => {
                replayed.error = Some(error);
                return (replayed, None);
            }
            Some(Ok(frame)) => {
                let data = frame.data_ref().map(|data| data.chunk().to_vec());
                replayed.frames.push_back(frame);
                let Some(data) = data else {
                    // Trailers before a whole message: nothing to inspect.
                    replayed.rest = Some(body);
                    return (replayed, None);
                };
                seen.extend_from_slice(&data);
            }
        }
    }
}

/// A request body whose first frames were read already: those, then the rest as it comes.
struct Replayed {
    frames: VecDeque<Frame<Bytes>>,
    error: Option<Status>,
    rest: Option<Body>,
}

impl HttpBody for Replayed {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Some(frame) = self.frames.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        if let Some(error) = self.error.take() {
            return Poll::Ready(Some(Err(error)));
        }
        match &mut self.rest {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty()
            && self.error.is_none()
            && self.rest.as_ref().is_none_or(|rest| rest.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::violated_fields;

    fn descriptor(name: &str) -> MessageDescriptor {
        DescriptorPool::decode(switchboard_proto::FILE_DESCRIPTOR_SET)
            .unwrap()
            .get_message_by_name(name)
            .unwrap()
    }

    #[test]
    fn every_long_string_is_named_by_its_path() {
        let mut message =
            DynamicMessage::new(descriptor("switchboard.callback.v1.CreateCallbackRequest"));
        message.set_field_by_name("phone_number", Value::String("1".repeat(100_000)));
        message.set_field_by_name("memo", Value::String("메모".repeat(10)));
        let mut violations = FieldViolations::new();
        check_strings(&message, &mut violations);
        let status = violations.into_status();
        assert_eq!(violated_fields(&status), ["phone_number"]);
        assert!(status.message().len() < 200);
    }

    #[test]
    fn every_unary_rpc_of_the_api_is_known() {
        assert!(
            UNARY_INPUTS.contains_key("/switchboard.callback.v1.CallbackService/CreateCallback")
        );
        assert!(UNARY_INPUTS.contains_key("/switchboard.gateway.v1.AuthService/IssueToken"));
    }
}
