//! Reading an envelope by the type of its payload.

use std::fmt;

use super::{Event, v1::EventEnvelope};

/// Why an envelope's payload could not be read as the event asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum UnpackError {
    /// The envelope carries no payload.
    NoPayload { event_type: String },
    /// The payload is another message, or does not decode.
    WrongPayload {
        event_type: String,
        expected: String,
        cause: prost::DecodeError,
    },
}

impl fmt::Display for UnpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPayload { event_type } => write!(f, "{event_type} has no payload"),
            Self::WrongPayload {
                event_type,
                expected,
                cause,
            } => write!(f, "{event_type} payload is not a {expected} ({cause})"),
        }
    }
}

impl std::error::Error for UnpackError {}

impl EventEnvelope {
    /// Whether the envelope announces an `E`, by its event type.
    pub fn is<E: Event>(&self) -> bool {
        self.event_type == E::EVENT_TYPE
    }

    /// The payload decoded as an `E`; an error when it is missing or another message. Checks
    /// the payload's type URL, not `event_type`: match on [`Event::EVENT_TYPE`] first.
    pub fn unpack<E: Event>(&self) -> Result<E, UnpackError> {
        let payload = self
            .payload
            .as_ref()
            .ok_or_else(|| UnpackError::NoPayload {
                event_type: self.event_type.clone(),
            })?;
        payload
            .to_msg::<E>()
            .map_err(|cause| UnpackError::WrongPayload {
                event_type: self.event_type.clone(),
                expected: E::full_name(),
                cause,
            })
    }
}
