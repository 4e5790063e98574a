//! What evaluation needs to know of the world, read from the directory, the CTI presence and
//! the ticket service. Group members and agents' groups are reused for a short while (they
//! change rarely and most events need them); open-ticket counts and presence are read fresh,
//! and only for an event whose fired triggers distribute by load or among present agents.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use switchboard_proto::gateway::v1::ListAgentsRequest;
use tonic::Status;

use crate::mesh::Mesh;

/// Group members (active agents) and agents' groups, each with when it was read.
#[derive(Default)]
struct Cached {
    members: HashMap<String, (Instant, Option<Vec<String>>)>,
    groups_of: HashMap<String, (Instant, Option<Vec<String>>)>,
}

#[derive(Clone)]
pub struct World {
    pub mesh: Mesh,
    max_age: Duration,
    cached: Arc<Mutex<Cached>>,
}

fn fresh<T: Clone>(entry: Option<&(Instant, T)>, max_age: Duration) -> Option<T> {
    entry
        .filter(|(at, _)| at.elapsed() < max_age)
        .map(|(_, value)| value.clone())
}

impl World {
    pub fn new(mesh: Mesh, max_age: Duration) -> Self {
        Self {
            mesh,
            max_age,
            cached: Arc::default(),
        }
    }

    /// The active members of each of `groups` that exists (a missing group is left out).
    pub async fn members(&self, groups: &[String]) -> Result<HashMap<String, Vec<String>>, Status> {
        let mut found = HashMap::new();
        for group in groups {
            let cached = fresh(self.cached.lock().unwrap().members.get(group), self.max_age);
            let members = match cached {
                Some(members) => members,
                None => {
                    let members = self.read_members(group).await?;
                    self.cached
                        .lock()
                        .unwrap()
                        .members
                        .insert(group.clone(), (Instant::now(), members.clone()));
                    members
                }
            };
            if let Some(members) = members {
                found.insert(group.clone(), members);
            }
        }
        Ok(found)
    }

    async fn read_members(&self, group: &str) -> Result<Option<Vec<String>>, Status> {
        if self.mesh.directory.group(group).await?.is_none() {
            return Ok(None);
        }
        let agents = self
            .mesh
            .directory
            .list_agents(ListAgentsRequest {
                group_id: group.into(),
                ..Default::default()
            })
            .await?;
        Ok(Some(agents.into_iter().map(|a| a.login).collect()))
    }

    /// The groups of each of `logins` that is an active agent.
    pub async fn groups_of(
        &self,
        logins: &[String],
    ) -> Result<HashMap<String, Vec<String>>, Status> {
        let mut found = HashMap::new();
        let mut unknown = Vec::new();
        {
            let cached = self.cached.lock().unwrap();
            for login in logins {
                match fresh(cached.groups_of.get(login), self.max_age) {
                    Some(Some(groups)) => {
                        found.insert(login.clone(), groups);
                    }
                    Some(None) => {}
                    None => unknown.push(login.clone()),
                }
            }
        }
        if unknown.is_empty() {
            return Ok(found);
        }
        let agents = self.mesh.directory.agents(&unknown).await?;
        let mut cached = self.cached.lock().unwrap();
        let now = Instant::now();
        for login in unknown {
            let groups = agents
                .iter()
                .find(|a| a.login == login && !a.disabled)
                .map(|a| a.group_ids.clone());
            if let Some(groups) = &groups {
                found.insert(login.clone(), groups.clone());
            }
            cached.groups_of.insert(login, (now, groups));
        }
        Ok(found)
    }

    /// The open tickets of every member of `groups`.
    pub async fn open_tickets(
        &self,
        members: &HashMap<String, Vec<String>>,
        groups: &[String],
    ) -> Result<HashMap<String, i32>, Status> {
        let mut logins: Vec<String> = groups
            .iter()
            .filter_map(|g| members.get(g))
            .flatten()
            .cloned()
            .collect();
        logins.sort();
        logins.dedup();
        if logins.is_empty() {
            return Ok(HashMap::new());
        }
        self.mesh.open_tickets(&logins).await
    }

    /// The agents CTI-present now.
    pub async fn present(&self) -> Result<HashSet<String>, Status> {
        self.mesh.directory.present_logins(None).await
    }
}
