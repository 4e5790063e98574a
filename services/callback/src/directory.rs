//! The gateway's directory and CTI presence as the callback service asks them (scopes
//! `directory:read` and `presence:read`): the platform's client, plus the phone permission.

use std::ops::Deref;

use switchboard_platform::{directory::Directory as GatewayDirectory, principal::PrincipalKey};
use switchboard_proto::gateway::v1::{Agent, ListAgentsRequest};
use tonic::Status;

/// The permission an agent needs to work callbacks.
pub const PHONE_PERMISSION: &str = "phone";

#[derive(Clone)]
pub struct Directory(GatewayDirectory);

impl Deref for Directory {
    type Target = GatewayDirectory;

    fn deref(&self) -> &GatewayDirectory {
        &self.0
    }
}

impl Directory {
    /// A client of the gateway at `url`, connecting when first used.
    pub fn new(url: &str, key: PrincipalKey) -> anyhow::Result<Self> {
        GatewayDirectory::new(url, key, "callback", "callback service").map(Self)
    }

    /// The active agents with the phone permission, optionally of one group.
    pub async fn phone_agents(&self, group_id: Option<&str>) -> Result<Vec<Agent>, Status> {
        self.list_agents(ListAgentsRequest {
            permission: PHONE_PERMISSION.into(),
            group_id: group_id.unwrap_or_default().into(),
            ..Default::default()
        })
        .await
    }
}
