//! The labels a call is counted under, from the API's descriptor set only: a path outside it
//! (the gateway's proxy sees whatever a caller sends) is `unknown`, so the series stay bounded.

use std::{
    collections::{HashMap, HashSet},
    sync::OnceLock,
};

use prost::Message;

/// The labels of one method: `grpc_type`, `grpc_service`, `grpc_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Method {
    pub kind: &'static str,
    pub service: &'static str,
    pub name: &'static str,
}

const UNKNOWN: &str = "unknown";

/// The API's methods by path (`/package.Service/Method`), and its services by name.
pub(super) struct MethodTable {
    methods: HashMap<String, Method>,
    services: HashSet<&'static str>,
}

pub(super) fn method_table() -> &'static MethodTable {
    static TABLE: OnceLock<MethodTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let files = prost_types::FileDescriptorSet::decode(switchboard_proto::FILE_DESCRIPTOR_SET)
            .map(|set| set.file)
            .unwrap_or_default();
        let mut methods = HashMap::new();
        let mut services = HashSet::new();
        for file in files {
            let package = file.package().to_owned();
            for service in file.service {
                // Leaked once per service and method of the API: labels borrowed for the process.
                let full: &'static str =
                    Box::leak(format!("{package}.{}", service.name()).into_boxed_str());
                services.insert(full);
                for method in service.method {
                    let kind = match (method.client_streaming(), method.server_streaming()) {
                        (false, false) => "unary",
                        (true, false) => "client_stream",
                        (false, true) => "server_stream",
                        (true, true) => "bidi_stream",
                    };
                    let name: &'static str = Box::leak(method.name().to_owned().into_boxed_str());
                    methods.insert(
                        format!("/{full}/{name}"),
                        Method {
                            kind,
                            service: full,
                            name,
                        },
                    );
                }
            }
        }
        MethodTable { methods, services }
    })
}

impl MethodTable {
    pub(super) fn method(&self, path: &str) -> Method {
        if let Some(method) = self.methods.get(path) {
            return *method;
        }
        let service = path
            .trim_start_matches('/')
            .split_once('/')
            .and_then(|(service, _)| self.services.get(service).copied())
            .unwrap_or(UNKNOWN);
        Method {
            kind: UNKNOWN,
            service,
            name: UNKNOWN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_s_methods_get_their_own_labels() {
        let table = method_table();
        let known = table.method("/switchboard.callback.v1.CallbackService/CreateCallback");
        assert_eq!(
            (known.kind, known.service, known.name),
            (
                "unary",
                "switchboard.callback.v1.CallbackService",
                "CreateCallback"
            )
        );
        let unknown_method = table.method("/switchboard.callback.v1.CallbackService/Nope");
        assert_eq!(
            (unknown_method.service, unknown_method.name),
            ("switchboard.callback.v1.CallbackService", UNKNOWN)
        );
        let stranger = table.method("/evil.v1.Anything/Whatever");
        assert_eq!(
            (stranger.kind, stranger.service, stranger.name),
            (UNKNOWN, UNKNOWN, UNKNOWN)
        );
    }
}
