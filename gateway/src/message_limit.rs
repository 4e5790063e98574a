//! The gateway's message-size limit on forwarded calls: a request body wrapper that reads the
//! length prefix of each gRPC message as it streams past and stops the call at the first one
//! over the limit, without buffering anything.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Buf;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::oneshot;
use tonic::{Status, body::Body};

/// Methods whose requests carry whole mails or files, with their contract's size and room for
/// the encoding: their limit when it is above the gateway's.
const LARGE_REQUESTS: &[(&str, usize)] = &[
    (
        "/switchboard.inbound.v1.InboundService/SubmitRawEmail",
        31 * 1024 * 1024,
    ),
    (
        "/switchboard.inbound.v1.InboundService/SubmitHelpCenterInquiry",
        21 * 1024 * 1024,
    ),
    (
        "/switchboard.inbound.v1.InboundService/SubmitChannelMessage",
        21 * 1024 * 1024,
    ),
];

/// The request limit of the method at `path`: its own when it carries mails or files, else
/// `default` (the gateway's `max_message_bytes`).
pub fn limit_for(path: &str, default: usize) -> usize {
    LARGE_REQUESTS
        .iter()
        .find(|(method, _)| *method == path)
        .map_or(default, |(_, max)| (*max).max(default))
}

/// A request body that reports the first message longer than `max` bytes on `violation`.
pub struct LimitedBody {
    inner: Body,
    max: usize,
    /// Bytes of the current 5-byte message header seen so far.
    header: [u8; 5],
    header_len: usize,
    /// Bytes of the current message's payload still to come.
    remaining: usize,
    violation: Option<oneshot::Sender<usize>>,
}

impl LimitedBody {
    pub fn new(inner: Body, max: usize, violation: oneshot::Sender<usize>) -> Self {
        Self {
            inner,
            max,
            header: [0; 5],
            header_len: 0,
            remaining: 0,
            violation: Some(violation),
        }
    }

    /// Follows the framing through `chunk`; the length of a message over the limit, if any.
    fn scan(&mut self, mut chunk: &[u8]) -> Option<usize> {
        while !chunk.is_empty() {
            if self.remaining > 0 {
                let skip = self.remaining.min(chunk.len());
                self.remaining -= skip;
                chunk = &chunk[skip..];
                continue;
            }
            let take = (5 - self.header_len).min(chunk.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&chunk[..take]);
            self.header_len += take;
            chunk = &chunk[take..];
            if self.header_len == 5 {
                self.header_len = 0;
                let length = u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]) as usize;
                if length > self.max {
                    return Some(length);
                }
                self.remaining = length;
            }
        }
        None
    }
}

impl HttpBody for LimitedBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
            && let Some(length) = self.scan(data.chunk())
        {
            if let Some(violation) = self.violation.take() {
                let _ = violation.send(length);
            }
            return Poll::Ready(Some(Err(Status::resource_exhausted("message too large"))));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(length: u32) -> Vec<u8> {
        let mut bytes = vec![0];
        bytes.extend(length.to_be_bytes());
        bytes.extend(std::iter::repeat_n(7u8, length as usize));
        bytes
    }

    fn body(max: usize) -> LimitedBody {
        let (tx, _rx) = oneshot::channel();
        LimitedBody::new(Body::empty(), max, tx)
    }

    #[test]
    fn messages_within_the_limit_pass_whatever_the_chunking() {
        let mut stream = frame(10);
        stream.extend(frame(100));
        stream.extend(frame(0));
        for chunk_size in [1, 3, 5, 7, 64, stream.len()] {
            let mut limited = body(100);
            for chunk in stream.chunks(chunk_size) {
                assert_eq!(limited.scan(chunk), None, "chunks of {chunk_size}");
            }
        }
    }

    #[test]
    fn the_first_message_over_the_limit_is_caught_even_split_across_chunks() {
        let mut stream = frame(10);
        stream.extend(frame(101));
        let mut limited = body(100);
        let found: Vec<_> = stream.chunks(2).filter_map(|c| limited.scan(c)).collect();
        assert_eq!(found.first(), Some(&101));
    }

    #[test]
    fn mail_submissions_have_their_own_larger_limit() {
        let raw = "/switchboard.inbound.v1.InboundService/SubmitRawEmail";
        assert_eq!(limit_for(raw, 4 << 20), 31 << 20);
        assert_eq!(limit_for(raw, 64 << 20), 64 << 20);
        assert_eq!(
            limit_for("/switchboard.ticket.v1.TicketService/GetTicket", 4 << 20),
            4 << 20
        );
    }
}
