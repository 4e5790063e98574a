//! CTI presence (docs/product.md §1): who is logged in to the phone system, in which state, until when.

mod service;
mod session;
mod store;

pub use service::PresenceApi;
pub use store::PresenceStore;
