//! The Helm chart (helm/switchboard) against the binary it deploys, so the two cannot drift: every
//! `SWITCHBOARD_*` variable the chart renders is a key the binary reads (`switchboard config
//! keys`), every process gets each key it cannot start without, the values schema offers only
//! real keys, every role runs on its own port, and the image (Dockerfile) is what the pods
//! expect. Renders with the helm that scripts/lint-helm installs into the tool cache.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

use serde::Deserialize;
use serde_yaml::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chart() -> PathBuf {
    repository().join("helm/switchboard")
}

fn helm() -> PathBuf {
    let tools = std::env::var_os("SWITCHBOARD_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/switchboard/tools")
        });
    let helm = tools.join("bin/helm");
    assert!(
        helm.is_file(),
        "{} is missing: run scripts/lint-helm (or scripts/install-helm-tools) to install helm",
        helm.display()
    );
    helm
}

/// The binary's output for `args`, with no `SWITCHBOARD_*` variable of this environment.
fn switchboard(args: &[&str]) -> String {
    let mut command = Command::new(BINARY);
    command.args(args);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SWITCHBOARD_")) {
        command.env_remove(name);
    }
    let output = command.output().expect("the binary runs");
    assert!(
        output.status.success(),
        "switchboard {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// A key of the binary: its kind, and the commands (roles, `migrate`) that need it set.
struct Key {
    kind: String,
    required_by: Vec<String>,
}

fn binary_keys() -> BTreeMap<String, Key> {
    let keys: BTreeMap<_, _> = switchboard(&["config", "keys"])
        .lines()
        .map(|line| {
            let fields: Vec<_> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "a line of `config keys`: {line:?}");
            let required_by = match fields[2] {
                "-" => Vec::new(),
                commands => commands.split(',').map(str::to_owned).collect(),
            };
            let key = Key {
                kind: fields[1].to_owned(),
                required_by,
            };
            (fields[0].to_owned(), key)
        })
        .collect();
    assert!(
        keys.values().any(|key| !key.required_by.is_empty()),
        "the binary names keys without a default"
    );
    keys
}

/// The roles of the binary and the port each listens on by default (`switchboard services`).
fn binary_roles() -> BTreeMap<String, u16> {
    switchboard(&["services"])
        .lines()
        .map(|line| {
            let fields: Vec<_> = line.split_whitespace().collect();
            let port = fields[1].rsplit(':').next().unwrap().parse().unwrap();
            (fields[0].to_owned(), port)
        })
        .collect()
}

/// The default values and every ci/ values file.
fn value_sets() -> Vec<(String, Option<PathBuf>)> {
    let mut files: Vec<_> = std::fs::read_dir(chart().join("ci"))
        .expect("helm/switchboard/ci")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the ci/ matrix: {files:?}");
    let mut sets = vec![("default".to_owned(), None)];
    sets.extend(files.into_iter().map(|file| {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        (name, Some(file))
    }));
    sets
}

fn render(values: Option<&Path>) -> Vec<Value> {
    let mut command = Command::new(helm());
    command
        .args(["template", "switchboard"])
        .arg(chart())
        .args(["--namespace", "switchboard"]);
    if let Some(values) = values {
        command.arg("-f").arg(values);
    }
    let output = command.output().expect("helm runs");
    assert!(
        output.status.success(),
        "helm template {values:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).expect("helm renders YAML"))
        .filter(|document| !document.is_null())
        .collect()
}

fn kind(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A container of a Deployment or Job, with the variables it gets.
struct Process {
    object: String,
    command: Vec<String>,
    args: Vec<String>,
    /// Every variable, from its env and its ConfigMaps.
    vars: BTreeMap<String, Option<String>>,
    /// Those it is sure to get: not from an optional Secret key.
    provided: BTreeSet<String>,
    /// The variables read from a Secret: the Secret's name and key.
    secret_refs: BTreeMap<String, (String, String)>,
    ports: Vec<(String, u64)>,
    run_as_user: Option<u64>,
    grpc_probe_ports: Vec<u64>,
}

fn processes(objects: &[Value]) -> Vec<Process> {
    let config_maps: BTreeMap<_, _> = objects
        .iter()
        .filter(|object| kind(object) == "ConfigMap")
        .map(|object| (name(object).to_owned(), object["data"].clone()))
        .collect();
    let mut processes = Vec::new();
    for object in objects {
        if !matches!(kind(object), "Deployment" | "Job") {
            continue;
        }
        let pod = &object["spec"]["template"]["spec"];
        let run_as_user = pod["securityContext"]["runAsUser"].as_u64();
        for container in pod["containers"].as_sequence().expect("containers") {
            let mut vars = BTreeMap::new();
            let mut provided = BTreeSet::new();
            let mut secret_refs = BTreeMap::new();
            for source in container["envFrom"].as_sequence().into_iter().flatten() {
                let map = source["configMapRef"]["name"]
                    .as_str()
                    .expect("only ConfigMaps are read whole");
                let data = config_maps.get(map).unwrap_or_else(|| {
                    panic!("{} reads ConfigMap {map}, not rendered", name(object))
                });
                for (var, value) in data.as_mapping().into_iter().flatten() {
                    let var = var.as_str().unwrap().to_owned();
                    vars.insert(var.clone(), value.as_str().map(str::to_owned));
                    provided.insert(var);
                }
            }
            for entry in container["env"].as_sequence().into_iter().flatten() {
                let var = entry["name"].as_str().unwrap().to_owned();
                let optional = entry["valueFrom"]["secretKeyRef"]["optional"]
                    .as_bool()
                    .unwrap_or(false);
                vars.insert(var.clone(), entry["value"].as_str().map(str::to_owned));
                let reference = &entry["valueFrom"]["secretKeyRef"];
                if let (Some(secret), Some(key)) =
                    (reference["name"].as_str(), reference["key"].as_str())
                {
                    secret_refs.insert(var.clone(), (secret.to_owned(), key.to_owned()));
                }
                if !optional {
                    provided.insert(var);
                }
            }
            let ports = container["ports"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|port| {
                    (
                        port["name"].as_str().unwrap_or_default().to_owned(),
                        port["containerPort"].as_u64().unwrap(),
                    )
                })
                .collect();
            let grpc_probe_ports = ["startupProbe", "readinessProbe", "livenessProbe"]
                .iter()
                .filter_map(|probe| container[*probe]["grpc"]["port"].as_u64())
                .collect();
            processes.push(Process {
                object: format!("{}/{}", kind(object), name(object)),
                command: strings(&container["command"]),
                args: strings(&container["args"]),
                vars,
                provided,
                secret_refs,
                ports,
                run_as_user,
                grpc_probe_ports,
            });
        }
    }
    processes
}

/// The command of the binary a process runs: its role for `serve <role>`, or `migrate`.
fn binary_command(process: &Process) -> &str {
    match process.args.as_slice() {
        [serve, role] if serve == "serve" => role,
        [migrate] if migrate == "migrate" => migrate,
        other => panic!("{} runs switchboard {other:?}", process.object),
    }
}

#[test]
fn every_switchboard_variable_the_chart_renders_is_a_key_the_binary_reads() {
    let keys = binary_keys();
    let mut checked = 0;
    for (set, values) in value_sets() {
        let objects = render(values.as_deref());
        let mut rendered: BTreeSet<String> = BTreeSet::new();
        for process in processes(&objects) {
            rendered.extend(process.vars.into_keys());
        }
        for object in objects.iter().filter(|object| kind(object) == "ConfigMap") {
            for (var, _) in object["data"].as_mapping().into_iter().flatten() {
                rendered.insert(var.as_str().unwrap().to_owned());
            }
        }
        for var in rendered
            .iter()
            .filter(|var| var.starts_with("SWITCHBOARD_"))
        {
            assert!(
                keys.contains_key(var),
                "{set}: the chart renders {var}, which the binary does not read"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no SWITCHBOARD_* variable was rendered");
}

#[test]
fn every_process_gets_every_key_it_cannot_start_without() {
    let keys = binary_keys();
    let mut production_sets = 0;
    for (set, values) in value_sets() {
        let processes = processes(&render(values.as_deref()));
        assert!(!processes.is_empty(), "{set}: nothing runs");
        let development = processes
            .iter()
            .any(|process| process.vars.contains_key("SWITCHBOARD_DEV"));
        if development {
            // Development mode (production: false) applies the development defaults, and says so
            // in every process.
            for process in &processes {
                assert_eq!(
                    process.vars.get("SWITCHBOARD_DEV"),
                    Some(&Some("1".to_owned())),
                    "{set}: {} is not in development mode like the others",
                    process.object
                );
            }
            continue;
        }
        production_sets += 1;
        for process in &processes {
            let command = binary_command(process);
            for (var, key) in &keys {
                if key.required_by.iter().any(|needed| needed == command) {
                    assert!(
                        process.provided.contains(var),
                        "{set}: {} (switchboard {}) cannot start without {var}",
                        process.object,
                        process.args.join(" ")
                    );
                }
            }
        }
    }
    assert!(
        production_sets >= 5,
        "the ci/ files deploy in production mode"
    );
}

/// The value of each key of each rendered Secret.
fn secrets(objects: &[Value]) -> BTreeMap<(String, String), String> {
    let mut values = BTreeMap::new();
    for object in objects.iter().filter(|object| kind(object) == "Secret") {
        for (key, value) in object["stringData"].as_mapping().into_iter().flatten() {
            let key = (name(object).to_owned(), key.as_str().unwrap().to_owned());
            values.insert(key, value.as_str().unwrap().to_owned());
        }
    }
    values
}

#[test]
fn the_binary_accepts_the_configuration_each_role_is_given() {
    // A Secret the chart does not render (secrets.existingSecret) holds what the operator put
    // there; this stands for it.
    const EXISTING: &str = "a-value-of-the-operator-s-own-secret-0123456789";
    let mut checked = 0;
    for (set, values) in value_sets() {
        let objects = render(values.as_deref());
        let secrets = secrets(&objects);
        for process in processes(&objects) {
            let role = binary_command(&process);
            if role == "migrate" {
                continue;
            }
            let mut command = Command::new(BINARY);
            command.args(["config", "check", role]);
            for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SWITCHBOARD_")) {
                command.env_remove(name);
            }
            for (var, value) in &process.vars {
                let value = match (value, process.secret_refs.get(var)) {
                    (Some(value), _) => value.clone(),
                    (None, Some(reference)) => secrets
                        .get(reference)
                        .cloned()
                        .unwrap_or_else(|| EXISTING.to_owned()),
                    (None, None) => panic!("{set}: {var} of {} has no value", process.object),
                };
                command.env(var, value);
            }
            let output = command.output().expect("the binary runs");
            assert!(
                output.status.success(),
                "{set}: switchboard serve {role} would refuse its configuration: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "every role of every values set is checked");
}

/// The leaves of the schema's `config` object, as variables, with their JSON types.
fn schema_config(schema: &serde_json::Value, path: &str, out: &mut BTreeMap<String, String>) {
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let path = format!("{path}__{}", name.to_ascii_uppercase());
        if property["type"] == "object" {
            assert_eq!(
                property["additionalProperties"], false,
                "{path}: the schema refuses unknown keys"
            );
            schema_config(property, &path, out);
        } else {
            let kind = property["type"]
                .as_str()
                .unwrap_or_else(|| panic!("{path} has a type"));
            out.insert(path, kind.to_owned());
        }
    }
}

#[test]
fn the_values_offer_only_keys_the_binary_reads_and_every_key_is_reachable() {
    let keys = binary_keys();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(chart().join("values.schema.json")).unwrap())
            .expect("values.schema.json is JSON");
    let mut offered = BTreeMap::new();
    let config = &schema["properties"]["config"];
    assert_eq!(config["additionalProperties"], false);
    for (name, property) in config["properties"].as_object().unwrap() {
        let var = format!("SWITCHBOARD_{}", name.to_ascii_uppercase());
        if property["type"] == "object" {
            schema_config(property, &var, &mut offered);
        } else {
            offered.insert(var, property["type"].as_str().unwrap().to_owned());
        }
    }
    for (var, kind) in &offered {
        let key = keys.get(var).unwrap_or_else(|| {
            panic!("values.schema.json offers config for {var}, which the binary does not read")
        });
        assert_eq!(
            &key.kind, kind,
            "{var}: the schema's type is not the binary's"
        );
    }
    // Every other key is one the chart sets itself (addresses, secrets) in some values set.
    let mut rendered = BTreeSet::new();
    for (_, values) in value_sets() {
        for process in processes(&render(values.as_deref())) {
            rendered.extend(process.vars.into_keys());
        }
    }
    for var in keys.keys() {
        if var == "SWITCHBOARD_CONFIG" {
            continue; // a file instead of variables: the chart uses variables
        }
        assert!(
            offered.contains_key(var) || rendered.contains(var),
            "{var} is read by the binary but neither in the chart's config values nor set by the chart"
        );
    }
}

#[test]
fn the_chart_runs_every_role_of_the_binary_on_its_port() {
    let roles = binary_roles();
    for (set, values) in value_sets() {
        let objects = render(values.as_deref());
        let services: BTreeMap<_, _> = objects
            .iter()
            .filter(|object| kind(object) == "Service")
            .map(|object| (name(object).to_owned(), object))
            .collect();
        let processes = processes(&objects);
        let served: BTreeSet<_> = processes
            .iter()
            .map(binary_command)
            .filter(|command| *command != "migrate")
            .collect();
        if set == "default" {
            let every: BTreeSet<_> = roles.keys().map(String::as_str).collect();
            assert_eq!(
                served, every,
                "the default values run every role of the binary"
            );
        }
        for process in &processes {
            let role = binary_command(process);
            if role == "migrate" {
                continue;
            }
            let port = u64::from(
                *roles
                    .get(role)
                    .unwrap_or_else(|| panic!("{set}: no role {role}")),
            );
            let grpc = process.ports.iter().find(|(name, _)| name == "grpc");
            assert_eq!(
                grpc.map(|(_, port)| *port),
                Some(port),
                "{set}: {role}'s gRPC port"
            );
            assert_eq!(
                process.grpc_probe_ports, [port; 3],
                "{set}: {role}'s gRPC probes"
            );
            let section = role.replace('-', "_").to_ascii_uppercase();
            assert_eq!(
                process.vars.get(&format!("SWITCHBOARD_{section}__LISTEN")),
                Some(&Some(format!("0.0.0.0:{port}"))),
                "{set}: {role} listens on every interface of its pod"
            );
            if role != "gateway" {
                continue;
            }
            // The gateway reaches each other role at its Service.
            for other in &served {
                let section = other.replace('-', "_").to_ascii_uppercase();
                let url = process
                    .vars
                    .get(&format!("SWITCHBOARD_{section}__URL"))
                    .cloned()
                    .flatten();
                let url = url.unwrap_or_else(|| panic!("{set}: the gateway has no URL of {other}"));
                let (host, service_port) = url
                    .strip_prefix("http://")
                    .and_then(|rest| rest.rsplit_once(':'))
                    .unwrap_or_else(|| panic!("{url} is http://service:port"));
                let service = services
                    .get(host)
                    .unwrap_or_else(|| panic!("{set}: {url} is no rendered Service"));
                assert_eq!(
                    service["spec"]["selector"]["app.kubernetes.io/component"].as_str(),
                    Some(*other)
                );
                let ports = service["spec"]["ports"].as_sequence().unwrap();
                assert!(
                    ports
                        .iter()
                        .any(|p| p["port"].as_u64() == service_port.parse().ok()
                            && p["targetPort"] == "grpc"),
                    "{set}: {url} is {other}'s gRPC port"
                );
            }
        }
    }
}

/// What the runtime stage of the Dockerfile declares.
struct Image {
    user: u64,
    entrypoint: Vec<String>,
    exposed: BTreeSet<u64>,
    binary: String,
}

fn image() -> Image {
    let dockerfile = std::fs::read_to_string(repository().join("Dockerfile")).expect("Dockerfile");
    let runtime = dockerfile
        .rsplit_once("\nFROM ")
        .expect("a multi-stage Dockerfile")
        .1;
    let mut image = Image {
        user: 0,
        entrypoint: Vec::new(),
        exposed: BTreeSet::new(),
        binary: String::new(),
    };
    for line in runtime.lines().map(str::trim) {
        if let Some(user) = line.strip_prefix("USER ") {
            let uid = user.split(':').next().unwrap();
            image.user = uid
                .parse()
                .unwrap_or_else(|_| panic!("USER {user} is numeric"));
        } else if let Some(entrypoint) = line.strip_prefix("ENTRYPOINT ") {
            image.entrypoint = serde_json::from_str(entrypoint).expect("ENTRYPOINT in exec form");
        } else if let Some(ports) = line.strip_prefix("EXPOSE ") {
            image.exposed.extend(
                ports
                    .split_whitespace()
                    .map(|port| port.trim_end_matches("/tcp").parse::<u64>().unwrap()),
            );
        } else if line.starts_with("COPY ") && line.contains("switchboard ") {
            image.binary = line.rsplit(' ').next().unwrap().to_owned();
        }
    }
    image
}

#[test]
fn the_image_is_what_the_chart_runs() {
    let image = image();
    assert_ne!(image.user, 0, "the image runs as a non-root user");
    assert_eq!(image.entrypoint, ["switchboard"]);
    assert_eq!(
        image.binary, "/usr/local/bin/switchboard",
        "the binary is on the PATH, as the chart's command needs"
    );
    // The image the chart pulls by default is the binary's version.
    let chart: Value =
        serde_yaml::from_str(&std::fs::read_to_string(chart().join("Chart.yaml")).unwrap())
            .unwrap();
    let version = switchboard(&["--version"]);
    assert_eq!(
        chart["appVersion"]
            .as_str()
            .map(|v| format!("switchboard {v}")),
        Some(version.trim().to_owned()),
        "Chart.yaml's appVersion is the binary's version"
    );
    let processes = processes(&render(None));
    let mut ports = BTreeSet::new();
    for process in &processes {
        assert_eq!(process.command, ["switchboard"], "{}", process.object);
        assert_eq!(
            process.run_as_user,
            Some(image.user),
            "{} runs as the image's user",
            process.object
        );
        ports.extend(process.ports.iter().map(|(_, port)| *port));
    }
    assert_eq!(
        ports, image.exposed,
        "the image exposes the ports the pods serve"
    );
}
