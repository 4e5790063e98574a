//! Method-level authorization: which principals may call which method, decided at the gateway
//! from the verified principal before a call is forwarded. Row-level rules (an agent sees only
//! their own callbacks) stay with the owning service.

mod table;

use std::{collections::HashMap, sync::LazyLock};

use switchboard_proto::common::v1::{Principal, PrincipalKind};

pub use table::{SCOPES, TABLE};

/// Which agents a method is open to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agents {
    /// None: the method is for admins or systems.
    No,
    /// Every agent (the service then limits them to their own rows).
    Any,
    /// Agents with the `phone` permission (전화 권한) only.
    WithPhone,
}

/// Who may call one method.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub admin: bool,
    pub agents: Agents,
    /// A service principal or API key holding any of these scopes may call it.
    pub scopes: &'static [&'static str],
    /// Open to every authenticated caller (WhoAmI).
    pub anyone: bool,
}

impl Access {
    pub const ADMIN: Access = Access {
        admin: true,
        agents: Agents::No,
        scopes: &[],
        anyone: false,
    };
    pub const ANYONE: Access = Access {
        admin: true,
        agents: Agents::Any,
        scopes: &[],
        anyone: true,
    };

    /// Nobody yet; add callers with the methods below.
    pub const fn none() -> Self {
        Access {
            admin: false,
            agents: Agents::No,
            scopes: &[],
            anyone: false,
        }
    }

    pub const fn admin(mut self) -> Self {
        self.admin = true;
        self
    }

    pub const fn agents(mut self) -> Self {
        self.agents = Agents::Any;
        self
    }

    pub const fn agents_with_phone(mut self) -> Self {
        self.agents = Agents::WithPhone;
        self
    }

    pub const fn scopes(mut self, scopes: &'static [&'static str]) -> Self {
        self.scopes = scopes;
        self
    }
}

/// Why a call was refused (sent to the caller as `PERMISSION_DENIED`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Denied {
    #[error("{0} is not open to any caller")]
    UnknownMethod(String),
    #[error("{method} is for admins only")]
    AdminOnly { method: String },
    #[error("{method} needs the phone permission")]
    NeedsPhone { method: String },
    #[error("{method} is not open to agents")]
    NotForAgents { method: String },
    #[error("{method} needs one of the scopes {scopes:?}")]
    MissingScope {
        method: String,
        scopes: &'static [&'static str],
    },
    #[error("{method} is not open to services")]
    NotForServices { method: String },
}

static BY_PATH: LazyLock<HashMap<String, Access>> = LazyLock::new(|| {
    TABLE
        .iter()
        .map(|(service, method, access)| (format!("/switchboard.{service}/{method}"), *access))
        .collect()
});

/// The rule for a gRPC path (`/switchboard.callback.v1.CallbackService/GetCallback`), if any.
pub fn rule(path: &str) -> Option<&'static Access> {
    BY_PATH.get(path)
}

/// May `principal` call the method at `path`? A method missing from the table is denied.
pub fn authorize(path: &str, principal: &Principal) -> Result<(), Denied> {
    // Built only for a refusal: the allowed path is the hot one.
    let method = || path.trim_start_matches('/').to_owned();
    let Some(access) = rule(path) else {
        // Any path a caller sends: quoted, never echoed whole.
        let shown = switchboard_platform::error::quote(path.trim_start_matches('/')).to_string();
        return Err(Denied::UnknownMethod(shown));
    };
    if access.anyone {
        return Ok(());
    }
    match principal.kind() {
        PrincipalKind::Admin if access.admin => Ok(()),
        PrincipalKind::Admin => Err(Denied::NotForAgents { method: method() }),
        PrincipalKind::Agent => match access.agents {
            Agents::Any => Ok(()),
            Agents::WithPhone if principal.permissions.iter().any(|p| p == "phone") => Ok(()),
            Agents::WithPhone => Err(Denied::NeedsPhone { method: method() }),
            Agents::No if access.admin && access.scopes.is_empty() => {
                Err(Denied::AdminOnly { method: method() })
            }
            Agents::No => Err(Denied::NotForAgents { method: method() }),
        },
        PrincipalKind::Service => {
            if access.scopes.is_empty() {
                return Err(Denied::NotForServices { method: method() });
            }
            if principal
                .scopes
                .iter()
                .any(|held| access.scopes.contains(&held.as_str()))
            {
                Ok(())
            } else {
                Err(Denied::MissingScope {
                    method: method(),
                    scopes: access.scopes,
                })
            }
        }
        PrincipalKind::Unspecified => Err(Denied::NotForAgents { method: method() }),
    }
}

#[cfg(test)]
mod tests;
