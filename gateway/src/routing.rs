//! Which service owns a call: the package in its gRPC path (`/switchboard.callback.v1.X/Y` →
//! the callback service), and what metadata a caller may not pass through.

use std::collections::HashMap;

use tonic::transport::{Channel, Endpoint};

/// A service the gateway forwards to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The protobuf package it owns, e.g. `switchboard.callback.v1`.
    pub package: String,
    /// Its role name, used in errors and logs, e.g. `callback`.
    pub service: String,
    /// Where it is reached, e.g. `http://127.0.0.1:50061`.
    pub url: String,
}

/// The largest header (and trailer) list the gateway accepts from a service. hyper's default
/// (16 KiB) is the limit an over-long error once broke; services bound their errors at the
/// source (platform `error::quote`, the string bounds in front of handlers), and this is the
/// margin above that, so a large answer is relayed rather than lost.
pub const MAX_UPSTREAM_HEADER_LIST_BYTES: u32 = 256 * 1024;

/// Packages → connections. Connections are opened lazily and re-opened after failures, so the
/// gateway starts before the services it routes to.
#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: HashMap<String, (String, Channel)>,
}

impl RouteTable {
    pub fn new(upstreams: Vec<Upstream>) -> anyhow::Result<Self> {
        let mut routes = HashMap::new();
        for upstream in upstreams {
            let endpoint = Endpoint::from_shared(upstream.url.clone()).map_err(|e| {
                anyhow::anyhow!("{}: {:?} is not a URL: {e}", upstream.service, upstream.url)
            })?;
            let channel = endpoint
                .connect_timeout(std::time::Duration::from_secs(2))
                .http2_max_header_list_size(MAX_UPSTREAM_HEADER_LIST_BYTES)
                .connect_lazy();
            routes.insert(upstream.package, (upstream.service, channel));
        }
        Ok(Self { routes })
    }

    /// The service name and connection owning `path`, if any.
    pub fn route(&self, path: &str) -> Option<(&str, &Channel)> {
        let package = package_of(path)?;
        self.routes
            .get(package)
            .map(|(service, channel)| (service.as_str(), channel))
    }
}

/// The package of a gRPC path: `/switchboard.callback.v1.CallbackService/GetCallback` →
/// `switchboard.callback.v1`.
fn package_of(path: &str) -> Option<&str> {
    let (service, _method) = path.strip_prefix('/')?.split_once('/')?;
    let (package, _service) = service.rsplit_once('.')?;
    Some(package)
}

/// Removes what only the gateway may set or only the gateway may read: Switchboard's internal
/// metadata (`x-switchboard-*`, the signed principal above all) and the caller's credentials.
pub fn strip_identity(headers: &mut http::HeaderMap) {
    let internal: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-switchboard-"))
        .cloned()
        .collect();
    for name in internal {
        headers.remove(name);
    }
    headers.remove(http::header::AUTHORIZATION);
    headers.remove(API_KEY_HEADER);
}

/// The header an API key may also be sent in.
pub const API_KEY_HEADER: &str = "x-api-key";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_decides_the_route() {
        assert_eq!(
            package_of("/switchboard.callback.v1.CallbackService/GetCallback"),
            Some("switchboard.callback.v1")
        );
        assert_eq!(package_of("/NoPackage/Method"), None);
        assert_eq!(package_of("not-a-grpc-path"), None);
    }

    #[tokio::test]
    async fn only_configured_packages_are_routed() {
        let table = RouteTable::new(vec![Upstream {
            package: "switchboard.callback.v1".into(),
            service: "callback".into(),
            url: "http://127.0.0.1:1".into(),
        }])
        .unwrap();
        let (service, _) = table
            .route("/switchboard.callback.v1.CallbackService/ListCallbacks")
            .unwrap();
        assert_eq!(service, "callback");
        assert!(
            table
                .route("/switchboard.ticket.v1.TicketService/GetTicket")
                .is_none()
        );
        assert!(table.route("/switchboard.callback.v1beta.X/Y").is_none());
    }

    #[test]
    fn identity_metadata_and_credentials_are_removed() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-switchboard-principal-bin", "Zm9yZ2Vk".parse().unwrap());
        headers.insert("x-switchboard-anything", "x".parse().unwrap());
        headers.insert("authorization", "Bearer abc".parse().unwrap());
        headers.insert("x-api-key", "sbk_abc".parse().unwrap());
        headers.insert("grpc-timeout", "5S".parse().unwrap());
        headers.insert(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                .parse()
                .unwrap(),
        );
        strip_identity(&mut headers);
        let left: Vec<_> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(headers.contains_key("grpc-timeout") && headers.contains_key("traceparent"));
    }
}
