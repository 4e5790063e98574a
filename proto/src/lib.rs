//! The Switchboard v1 API: prost messages and tonic clients and servers for every package under
//! `proto/switchboard/` (`switchboard_proto::callback::v1`, `::ticket::v1`, `::events::v1`, …),
//! and the encoded file descriptor set that gRPC reflection serves.

/// Every `.proto` file of the API (and the well-known types they import), encoded as a
/// `google.protobuf.FileDescriptorSet`; registered with gRPC reflection by every server.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/switchboard_descriptor.bin"));

// Generated code: its doc comments are the .proto comments, written for the API, not for rustdoc.
#[allow(clippy::all, rustdoc::all)]
mod generated {
    // The module tree (`switchboard::<package>::v1`) is written by build.rs from the .proto files.
    include!(concat!(env!("OUT_DIR"), "/switchboard_includes.rs"));
}

pub use generated::switchboard::*;

pub mod events;
pub mod ticket_changes;
