use std::{collections::BTreeSet, path::Path};

use prost::Message;
use switchboard_proto::common::v1::{Principal, PrincipalKind};

use super::*;

/// Every method of every Switchboard service in the descriptor set, as gRPC paths.
fn api_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(switchboard_proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let mut methods = BTreeSet::new();
    for file in set.file {
        let package = file.package().to_owned();
        if !package.starts_with("switchboard.") || package == "switchboard.testing.v1" {
            continue;
        }
        for service in &file.service {
            for method in &service.method {
                methods.insert(format!("/{package}.{}/{}", service.name(), method.name()));
            }
        }
    }
    methods
}

fn table_paths() -> Vec<String> {
    TABLE
        .iter()
        .map(|(service, method, _)| format!("/switchboard.{service}/{method}"))
        .collect()
}

#[test]
fn every_api_method_is_in_the_table_and_nothing_else() {
    let api = api_methods();
    assert!(api.len() > 100, "the descriptor set holds the whole API");
    let table: BTreeSet<_> = table_paths().into_iter().collect();
    assert_eq!(table.len(), TABLE.len(), "a method is in the table twice");
    let missing: Vec<_> = api.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "methods missing from the table: {missing:?}"
    );
    let unknown: Vec<_> = table.difference(&api).collect();
    assert!(
        unknown.is_empty(),
        "the table names methods the API lacks: {unknown:?}"
    );
}

#[test]
fn every_scope_is_known_and_opens_something() {
    let used: BTreeSet<_> = TABLE.iter().flat_map(|(_, _, a)| a.scopes.iter()).collect();
    for scope in &used {
        assert!(SCOPES.contains(scope), "{scope} is not in SCOPES");
    }
    for scope in SCOPES {
        assert!(used.contains(scope), "{scope} opens no method");
    }
}

/// The "Callers:" text of every rpc, read from the .proto sources: (path, text).
fn callers_comments() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/switchboard");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                files.push(path);
            }
        }
    }
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let (mut package, mut service, mut comment) = (String::new(), String::new(), Vec::new());
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("package ") {
                package = rest.trim_end_matches(';').to_owned();
            } else if let Some(rest) = line.strip_prefix("service ") {
                service = rest.split_whitespace().next().unwrap().to_owned();
            } else if let Some(rest) = line.strip_prefix("//") {
                comment.push(rest.trim().to_owned());
                continue;
            } else if let Some(rest) = line.strip_prefix("rpc ") {
                let method = rest.split('(').next().unwrap().trim();
                let joined = comment.join(" ");
                if let Some((_, callers)) = joined.split_once("Callers:") {
                    let callers = callers.split("Errors").next().unwrap().to_lowercase();
                    found.push((format!("/{package}.{service}/{method}"), callers));
                }
            }
            comment.clear();
        }
    }
    found
}

#[test]
fn the_table_agrees_with_the_callers_line_of_every_rpc() {
    let comments = callers_comments();
    assert_eq!(
        comments.len(),
        TABLE.len(),
        "every rpc of the API has a Callers line"
    );
    for (path, callers) in comments {
        if path.starts_with("/switchboard.testing.") {
            continue;
        }
        let access = rule(&path).unwrap_or_else(|| panic!("{path} is not in the table"));
        if callers.contains("anyone authenticated") {
            assert!(access.anyone, "{path}: {callers}");
            continue;
        }
        let said_scopes: BTreeSet<_> = callers
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| s.contains(':'))
            .collect();
        let table_scopes: BTreeSet<_> = access.scopes.iter().copied().collect();
        assert_eq!(
            said_scopes, table_scopes,
            "{path}: scopes differ from '{callers}'"
        );
        assert_eq!(
            access.admin,
            callers.contains("admin"),
            "{path}: admin vs '{callers}'"
        );
        let mentions_agents = ["agent ", "agents", "assignee", "themselves", "any agent"]
            .iter()
            .any(|word| callers.contains(word))
            && !callers.trim_start().starts_with("api key");
        assert_eq!(
            access.agents != Agents::No,
            mentions_agents,
            "{path}: agents vs '{callers}'"
        );
        if access.agents != Agents::No {
            assert_eq!(
                access.agents == Agents::WithPhone,
                callers.contains("phone"),
                "{path}: phone permission vs '{callers}'"
            );
        }
    }
}

fn principal(kind: PrincipalKind, permissions: &[&str], scopes: &[&str]) -> Principal {
    Principal {
        subject: "someone".into(),
        kind: kind as i32,
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn decisions_follow_role_permission_and_scope() {
    let admin = principal(PrincipalKind::Admin, &[], &[]);
    let agent = principal(PrincipalKind::Agent, &[], &[]);
    let phone_agent = principal(PrincipalKind::Agent, &["phone"], &[]);
    let ivr = principal(PrincipalKind::Service, &[], &["callbacks:create"]);

    let assign = "/switchboard.callback.v1.CallbackService/AssignEvenly";
    assert_eq!(authorize(assign, &admin), Ok(()));
    assert!(matches!(
        authorize(assign, &phone_agent),
        Err(Denied::AdminOnly { .. })
    ));
    assert!(matches!(
        authorize(assign, &ivr),
        Err(Denied::NotForServices { .. })
    ));

    let list = "/switchboard.callback.v1.CallbackService/ListCallbacks";
    assert_eq!(authorize(list, &phone_agent), Ok(()));
    assert!(matches!(
        authorize(list, &agent),
        Err(Denied::NeedsPhone { .. })
    ));
    assert!(matches!(
        authorize(list, &ivr),
        Err(Denied::MissingScope { .. })
    ));

    let create = "/switchboard.callback.v1.CallbackService/CreateCallback";
    assert_eq!(authorize(create, &ivr), Ok(()));
    assert!(matches!(
        authorize(create, &phone_agent),
        Err(Denied::NotForAgents { .. })
    ));

    let raw_mail = "/switchboard.inbound.v1.InboundService/SubmitRawEmail";
    assert!(
        authorize(raw_mail, &admin).is_err(),
        "admins do not submit raw mail"
    );

    let whoami = "/switchboard.gateway.v1.AuthService/WhoAmI";
    for caller in [&admin, &agent, &ivr] {
        assert_eq!(authorize(whoami, caller), Ok(()));
    }
    let unknown = "/switchboard.callback.v1.CallbackService/DropDatabase";
    assert!(matches!(
        authorize(unknown, &admin),
        Err(Denied::UnknownMethod(_))
    ));
    let probe = "/switchboard.testing.v1.ProbeService/Echo";
    assert!(
        authorize(probe, &admin).is_err(),
        "the test probe is not reachable through the gateway"
    );
}
