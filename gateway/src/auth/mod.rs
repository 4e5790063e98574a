//! Authentication at the door: bearer tokens, API keys and the mesh's own service principals,
//! turned into the principal the gateway signs into every call it lets through.

mod admission;
mod agent_cache;
mod jwks;
mod limits;
pub mod tokens;
mod ttl_cache;

pub use admission::GatewayAdmission;
pub use agent_cache::AgentCache;
pub use limits::{ConcurrencyLimit, RateLimiter};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    gateway::v1::CredentialKind,
};
pub use ttl_cache::TtlCache;

use crate::directory::store::AgentRow;

/// How the caller of a call proved who they are (request extension, for `WhoAmI`).
#[derive(Debug, Clone)]
pub struct Credential {
    pub kind: CredentialKind,
    pub api_key_id: String,
}

/// The principal of an active agent or admin from the directory.
pub fn agent_principal(agent: &AgentRow) -> Principal {
    Principal {
        subject: agent.login.clone(),
        kind: if agent.is_admin() {
            PrincipalKind::Admin
        } else {
            PrincipalKind::Agent
        } as i32,
        group_ids: agent.group_ids.iter().map(|id| id.to_string()).collect(),
        permissions: agent.permissions.clone(),
        scopes: Vec::new(),
        expire_time: None,
        display_name: agent.display_name.clone(),
    }
}
