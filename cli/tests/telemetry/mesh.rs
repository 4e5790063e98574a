//! The mesh as production runs it: one `switchboard` process per role, migrated by
//! `switchboard migrate`, each with its own metrics port. It gets a database and a RabbitMQ
//! virtual host of its own, so no other test's relay or consumer can take its events.

use std::{
    net::SocketAddr,
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use secrecy::ExposeSecret;
use sqlx::{Connection, PgConnection};
use switchboard_platform::testing;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

pub const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

pub const ROLES: [&str; 3] = ["gateway", "callback", "reporting"];

fn free_port() -> SocketAddr {
    SocketAddr::from((
        [127, 0, 0, 1],
        switchboard_platform::loopback::unused_port(),
    ))
}

/// One role's process.
pub struct RoleProcess {
    pub role: &'static str,
    pub listen: SocketAddr,
    pub metrics: SocketAddr,
    child: tokio::process::Child,
    log: PathBuf,
}

pub struct Mesh {
    id: String,
    database: String,
    env: Vec<(String, String)>,
    pub roles: Vec<RoleProcess>,
}

impl Mesh {
    /// Migrates a fresh database and starts every role, spans exported to `otlp_endpoint`
    /// within a tenth of a second.
    pub async fn start(otlp_endpoint: &str) -> Self {
        let id = testing::unique_id();
        let database = format!("telemetry_{id}");
        let server_url = testing::database_config().url.expose_secret().to_owned();
        let mut admin = PgConnection::connect(&server_url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is needed for this test ({e}); start it with scripts/ensure-services")
        });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let database_url = match server_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{database}"),
            None => panic!("a database URL ends in its name: {server_url}"),
        };
        let amqp = testing::amqp_config(&id);
        testing::require_rabbitmq(&amqp).await;

        let listens: Vec<SocketAddr> = ROLES.iter().map(|_| free_port()).collect();
        let mut env = vec![
            ("SWITCHBOARD_DEV".to_owned(), "1".to_owned()),
            ("SWITCHBOARD_DATABASE__URL".to_owned(), database_url),
            (
                "SWITCHBOARD_AMQP__URL".to_owned(),
                amqp.url.expose_secret().to_owned(),
            ),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
                otlp_endpoint.to_owned(),
            ),
            ("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "100".to_owned()),
        ];
        for (role, listen) in ROLES.iter().zip(&listens) {
            env.push((
                format!("SWITCHBOARD_{}__LISTEN", role.to_uppercase()),
                listen.to_string(),
            ));
        }
        let mut mesh = Self {
            id,
            database,
            env,
            roles: Vec::new(),
        };
        let mut migrate = mesh.command();
        migrate.arg("migrate");
        succeed(migrate);
        for (role, listen) in ROLES.into_iter().zip(listens) {
            let metrics = free_port();
            let log = std::env::temp_dir().join(format!("switchboard-{}-{role}.log", mesh.id));
            let child = tokio::process::Command::from(mesh.command())
                .args(["serve", role])
                .env("SWITCHBOARD_TELEMETRY__METRICS_LISTEN", metrics.to_string())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            mesh.roles.push(RoleProcess {
                role,
                listen,
                metrics,
                child,
                log,
            });
        }
        for role in &mesh.roles {
            wait_serving(role).await;
        }
        mesh
    }

    /// The binary with the mesh's environment.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BINARY);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    pub fn role(&self, name: &str) -> &RoleProcess {
        self.roles.iter().find(|r| r.role == name).unwrap()
    }

    pub async fn gateway(&self) -> Channel {
        testing::connect(self.role("gateway").listen).await
    }

    /// An admin's bearer token, from the CLI as an operator gets one.
    pub fn admin_bearer(&self) -> String {
        let login = format!("otel-admin-{}", self.id);
        let mut create = self.command();
        create.args([
            "directory",
            "create-admin",
            "--login",
            &login,
            "--name",
            "관리자",
        ]);
        succeed(create);
        let mut token = self.command();
        token.args(["token", "--agent", &login]);
        format!("Bearer {}", succeed(token).trim())
    }

    /// SIGTERM to every role (which flushes its spans), each must exit cleanly; then the
    /// database and the virtual host go.
    pub async fn stop(mut self) {
        for role in &self.roles {
            testing::send_sigterm(role.child.id().expect("the role is running"));
        }
        for role in &mut self.roles {
            let exit = tokio::time::timeout(Duration::from_secs(15), role.child.wait())
                .await
                .unwrap_or_else(|_| panic!("{} stops after SIGTERM", role.role))
                .unwrap();
            assert!(
                exit.success(),
                "{} exit {exit:?}: {}",
                role.role,
                role.logs()
            );
        }
        let server_url = testing::database_config().url.expose_secret().to_owned();
        let mut admin = PgConnection::connect(&server_url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.database
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        testing::delete_amqp(&self.id);
        for role in &self.roles {
            let _ = std::fs::remove_file(&role.log);
        }
    }

    /// Every role's log, for a failure message.
    pub fn logs(&self) -> String {
        self.roles.iter().map(RoleProcess::logs).collect()
    }
}

impl RoleProcess {
    pub fn logs(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("--- {} ---\n{log}\n", self.role)
    }
}

/// Runs a CLI command to its end; its standard output, or a failure with its errors.
fn succeed(mut command: Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn wait_serving(role: &RoleProcess) {
    for _ in 0..150 {
        if let Ok(channel) = Channel::from_shared(format!("http://{}", role.listen))
            .unwrap()
            .connect()
            .await
            && let Ok(status) = HealthClient::new(channel)
                .check(HealthCheckRequest::default())
                .await
            && status.into_inner().status == 1
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} is not serving: {}", role.role, role.logs());
}
