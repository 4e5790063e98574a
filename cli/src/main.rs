//! `switchboard`: the one binary of the mesh. `serve` runs one or more service roles in this
//! process, `migrate` applies their database migrations, `directory create-admin` and `token`
//! let a fresh install sign in.

mod admin;
mod bench;
mod config;
mod keys;
mod mail;
mod roles;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Switchboard: callbacks and tickets for a contact center, as a mesh of gRPC services",
    long_about = "Switchboard: callbacks and tickets for a contact center, as a mesh of gRPC services.\n\n\
        Configuration comes from SWITCHBOARD_* environment variables (`__` between nested names, \
        e.g. SWITCHBOARD_DATABASE__URL) and an optional TOML file named by SWITCHBOARD_CONFIG. \
        In development mode (SWITCHBOARD_DEV=1) the local PostgreSQL, Redis and RabbitMQ and \
        public development secrets are the defaults, and a warning says so; outside it a command \
        stops at start naming every variable it needs that is not set."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run service roles in this process: `serve callback reporting`, or `serve all`.
    Serve {
        /// Roles to run (`all` for every role built into this binary).
        #[arg(required = true, value_name = "SERVICE")]
        services: Vec<String>,
    },
    /// Apply the database migrations of the named roles (all by default) and declare the queues
    /// they consume (so that events published before a role first runs wait for it), then
    /// exit.
    Migrate {
        #[arg(value_name = "SERVICE")]
        services: Vec<String>,
    },
    /// List the service roles, where each listens, and whether this binary has it yet.
    Services,
    /// Print a token the gateway accepts, signed with its own secret, for an agent of the
    /// directory (for local use and sites without an identity provider).
    Token {
        /// The agent's login.
        #[arg(long)]
        agent: String,
        /// Lifetime in minutes (default `gateway.auth.local_token.default_ttl_s`, capped by
        /// `max_ttl_s`).
        #[arg(long, value_name = "MINUTES")]
        ttl: Option<u64>,
    },
    /// Load generators that print figures against a baseline measured in the same run.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Directory tools that need no running gateway.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Reporting maintenance.
    Reporting {
        #[command(subcommand)]
        command: ReportingCommand,
    },
    /// Mail tools for an MTA.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// What the binary reads from its configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Every configuration key, as its environment variable, one a line: the variable, the kind
    /// of value, and the commands (a role's `serve`, `migrate`) that refuse to start without it
    /// outside development mode, or `-`. Deployment tooling (the Helm chart's tests) checks
    /// itself against this list.
    Keys,
    /// Load the configuration as `serve` would for the named roles (all by default) and read
    /// each role's settings, without connecting to anything: exits non-zero naming what `serve`
    /// would refuse (a missing secret outside development mode, a value that does not parse).
    Check {
        #[arg(value_name = "SERVICE")]
        services: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum MailCommand {
    /// Submit one message read on standard input to mail-ingest through the gateway
    /// (SubmitRawEmail), as an MTA's pipe transport: for Postfix, in master.cf
    /// `switchboard unix - n n - - pipe flags=Rq user=switchboard argv=/usr/bin/switchboard mail
    /// deliver --sender ${sender} --recipient ${recipient}`. Exit codes (sysexits.h): 0 delivered
    /// (also a duplicate or kept in the quarantine); 75 temporary, the MTA retries (gateway or
    /// ticket service unreachable); 67 no account for the recipients; 65 not a message; 69 over
    /// the size limit or the account inactive; 77 the API key refused.
    Deliver {
        /// The gateway.
        #[arg(
            long,
            env = "SWITCHBOARD_GATEWAY_URL",
            default_value = "http://127.0.0.1:50051"
        )]
        gateway: String,
        /// An API key with scope `mail:submit`.
        #[arg(long, env = "SWITCHBOARD_MAIL_API_KEY", hide_env_values = true)]
        api_key: String,
        /// The receiving account's id; without it the account is found by `--recipient`.
        #[arg(long, default_value = "")]
        account: String,
        /// An envelope recipient (RCPT TO); repeatable.
        #[arg(long = "recipient", value_name = "ADDRESS")]
        recipients: Vec<String>,
        /// The envelope sender (MAIL FROM); empty or `<>` for a bounce.
        #[arg(long)]
        sender: Option<String>,
        /// Seconds to wait for the answer before exiting 75.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}

#[derive(Debug, Subcommand)]
enum ReportingCommand {
    /// Build the reporting models again from the retained event log (after a change of their
    /// shape or of `time_zone`). Runs in one transaction: consumers and reports wait for it,
    /// and a failure leaves the old models as they were. For a new `time_zone`, stop the
    /// reporting replicas first and start them with the new zone after: a replica still running
    /// in the old zone would file new events under its old local days.
    Rebuild,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// The gateway's overhead: one cheap call straight to a service and through a gateway
    /// (both started in this process against the configured PostgreSQL, Redis and RabbitMQ).
    Gateway {
        /// Calls in flight at once (closed loop).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds to measure each way, after a one-second warm-up.
        #[arg(long, default_value_t = 10)]
        duration: u64,
    },
    /// IVR pushes (CreateCallback) through the gateway of a running mesh, closed loop, against
    /// this machine's raw PostgreSQL single-row insert rate at the same concurrency. Creates
    /// the API key and IVR route it needs (as `--admin`). The last line is the summary.
    Callbacks {
        /// Calls in flight at once (closed loop).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds to measure each way, after a one-second warm-up.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// The gateway of the running mesh.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        gateway: String,
        /// The admin the benchmark signs in as (with a token of the gateway's own).
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// Ticket creation (CreateTicket, an internal first message, no template, not sent) by an
    /// admin through the gateway of a running mesh, closed loop, against this machine's raw
    /// PostgreSQL single-row insert rate of a comparable row at the same concurrency. Creates the
    /// group it needs (as `--admin`) and deletes it at the end; the tickets stay. Goal: at least
    /// 1,000 tickets/s with p99 at most 50 ms at concurrency 16. The last line is the summary.
    Tickets {
        /// Calls in flight at once (closed loop).
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Seconds to measure each way, after the warm-up.
        #[arg(long, default_value_t = 15)]
        duration: u64,
        /// Seconds of warm-up each way, not counted.
        #[arg(long, default_value_t = 1)]
        warmup: u64,
        /// The gateway of the running mesh.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        gateway: String,
        /// The admin the benchmark signs in as (with a token of the gateway's own).
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// Mail ingestion: raw Korean mails (UTF-8 and EUC-KR, plain, HTML, with an attachment)
    /// submitted as an MTA does (SubmitRawEmail, API key of scope mail:submit) through the
    /// gateway of a running mesh, each parsed, decoded and made a new ticket, closed loop,
    /// beside the parsing and decoding alone in this process at the same concurrency; then three
    /// MIME bombs (1,000 nested parts, 50,000 parts, 100 MiB) with the time each takes. Creates
    /// the API key and receiving account it needs (as `--admin`); the tickets stay. Goal: at
    /// least 1,000 mails/s. The last line is the summary.
    Mail {
        /// Calls in flight at once (closed loop).
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Seconds to measure each way, after the warm-up.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Seconds of warm-up each way, not counted.
        #[arg(long, default_value_t = 1)]
        warmup: u64,
        /// The gateway of the running mesh.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        gateway: String,
        /// The admin the benchmark signs in as (with a token of the gateway's own).
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// Trigger evaluation and its effect end to end. First 1,000 compiled triggers (subject
    /// words, channel, priority, requester domain, tags) evaluated against one ticket in this
    /// process (goal: at most 100 µs for all of them), beside one substring search of the
    /// subject per trigger as the baseline. Then, through the running mesh: a group of 5
    /// agents and a trigger distributing by round robin (created as `--admin`; the trigger is
    /// deleted at the end, the tickets stay), customer messages ingested at `--rate` per second
    /// for `--duration` seconds, and the time from each ingest call to the trigger's change
    /// committed on its ticket (goal: p99 at most 200 ms at 200 per second), not counting the
    /// messages of the first `--warmup` seconds (the mesh's pools and caches filling). The
    /// last line is the summary.
    Triggers {
        /// Triggers evaluated against the ticket.
        #[arg(long, default_value_t = 1_000)]
        triggers: usize,
        /// Evaluations of the whole list measured.
        #[arg(long, default_value_t = 2_000)]
        repeat: usize,
        /// Customer messages ingested per second (open loop).
        #[arg(long, default_value_t = 200)]
        rate: u32,
        /// Seconds of ingestion.
        #[arg(long, default_value_t = 15)]
        duration: u64,
        /// Seconds at the start of the ingestion whose messages are checked but not timed.
        #[arg(long, default_value_t = 2)]
        warmup: u64,
        /// The gateway of the running mesh.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        gateway: String,
        /// The admin the benchmark signs in as (with a token of the gateway's own).
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// The ticket list's reads over a generated center of `--tickets` tickets (50 groups, 500
    /// agents, three years, Korean subjects) in a scratch schema `bench_tq_<run>`, through a
    /// ticket service in this process: CountTicketViews (an agent, an admin; goal p95 <= 100
    /// ms), ListTickets pages 1 and 200 (goal p95 <= 30 ms), SearchTickets by a rare and a
    /// common word, a requester name, and word + group + period (goal p95 <= 50 ms), each
    /// beside the naive SQL (COUNT(*), OFFSET, ILIKE) timed in the same run. The schema is
    /// dropped at the end unless `--keep`. The last line is the summary.
    TicketQueries {
        /// Tickets generated.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: i64,
        /// Calls of each rpc measured (after 3 warm-up calls).
        #[arg(long, default_value_t = 100)]
        repeat: usize,
        /// Runs of each naive query measured (after 1 warm-up run).
        #[arg(long, default_value_t = 5)]
        naive_repeat: usize,
        /// The scratch schema (must start with `bench_tq_`); one already holding `--tickets`
        /// tickets is reused. Default: a new `bench_tq_<run>`.
        #[arg(long)]
        schema: Option<String>,
        /// Keep the scratch schema at the end, for another run with `--schema`.
        #[arg(long)]
        keep: bool,
    },
    /// IVR pushes through the gateway of a running mesh, closed loop, with the reporting
    /// model sampled every second during the load and after it until it has caught up. Creates
    /// the API key and IVR route it needs (as `--admin`). The last line is the summary.
    #[command(after_help = bench::pipeline::DEFINITIONS)]
    Pipeline {
        /// Calls in flight at once (closed loop).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Seconds after the load the model may take to catch up before it is reported as not
        /// caught up.
        #[arg(long, default_value_t = 120)]
        catch_up_timeout: u64,
        /// The gateway of the running mesh.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        gateway: String,
        /// The admin the benchmark signs in as (with a token of the gateway's own).
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// Faults under sustained IVR pushes, against a private PostgreSQL cluster, RabbitMQ node
    /// and mesh (`serve gateway`, `serve callback reporting`) that it starts and removes: a
    /// RabbitMQ restart, a PostgreSQL crash (`pg_ctl stop -m immediate`) and a SIGKILL of the
    /// callback and reporting process. Per phase: pushes sent, answered OK, stored, in the
    /// reporting model, lost, duplicated, the answers during the outage by gRPC code, the
    /// longest answer and whether the services recovered. Development mode only; the shared
    /// servers are never touched.
    Faults {
        /// Pushes in flight at once (closed loop).
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Deadline of each push, in milliseconds.
        #[arg(long, default_value_t = 2_000)]
        timeout_ms: u64,
    },
    /// The callback export (.xlsx) of `--rows` callbacks, in this process against the
    /// configured PostgreSQL, with its time, PostgreSQL's time to stream the same rows, and the
    /// process's peak memory.
    Export {
        /// Callbacks in the exported search.
        #[arg(long, default_value_t = 100_000)]
        rows: i64,
    },
    /// Processing-status reports over a generated model of `--callbacks` callbacks (one year,
    /// 20 routes, 200 agents in 10 groups), asked `--repeat` times each through a reporting
    /// service in this process; p50/p95 against a GROUP BY over the raw facts.
    Reporting {
        /// Callbacks in the model.
        #[arg(long, default_value_t = 10_000_000)]
        callbacks: i64,
        /// Calls of each report measured (after 3 warm-up calls).
        #[arg(long, default_value_t = 50)]
        repeat: usize,
        /// The scratch schema; a schema that already holds `--callbacks` callbacks is reused.
        #[arg(long, default_value = "bench_reporting")]
        schema: String,
        /// Drop the scratch schema at the end (kept by default, so a rerun skips the fill).
        #[arg(long)]
        drop: bool,
    },
    /// The ticket reports over a generated model of `--tickets` tickets created over 2025 in
    /// the center's zone (10 groups, 200 agents, 5 channels, 8 inquiry types, 3 mail accounts;
    /// mostly solved or closed, some open, a few spam; 1 to 8 states each), facts and states
    /// generated in PostgreSQL and counts written by the service's own recount. Through a
    /// reporting service in this process: the daily volume report (random filter), the backlog
    /// report by group and the times report by group, each over 31 days from a random day,
    /// `--repeat` times (goal p95 <= 50 ms), beside the same answer computed over the raw facts
    /// and states (checked equal). Then the fold rate: `--fold-events` ticket events published
    /// to a private RabbitMQ virtual host (deleted at the end) and folded by a consuming
    /// reporting service on the scratch schema `<schema>_fold` (dropped at the end); goal
    /// >= 5,000 events/s. The last line is the summary.
    #[command(after_help = bench::ticket_reports::DEFINITIONS)]
    TicketReports {
        /// Tickets in the model.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: i64,
        /// Calls of each report measured (after 3 warm-up calls), each with random choices.
        #[arg(long, default_value_t = 50)]
        repeat: usize,
        /// Of those, how many are also computed over the raw facts (and checked equal).
        #[arg(long, default_value_t = 5)]
        raw_repeat: usize,
        /// The scratch schema; one that already holds `--tickets` tickets is reused.
        #[arg(long, default_value = "bench_ticket_reports")]
        schema: String,
        /// Drop the scratch schema at the end (kept by default, so a rerun skips the fill).
        #[arg(long)]
        drop: bool,
        /// Ticket events published and folded (4 per ticket: created, assigned, first reply,
        /// solved).
        #[arg(long, default_value_t = 50_000)]
        fold_events: i64,
        /// Seed of the random periods, filters and events.
        #[arg(long, default_value_t = 18)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum DirectoryCommand {
    /// Create an admin (the first one of a fresh install); an existing login is left unchanged.
    CreateAdmin {
        /// Login, 1 to 64 characters of a-z, 0-9, '.', '_', '-', '@'.
        #[arg(long)]
        login: String,
        /// Name shown to people.
        #[arg(long)]
        name: String,
        /// E-mail address.
        #[arg(long, default_value = "")]
        email: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("switchboard: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("switchboard: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The key every database tool needs.
const DATABASE: &[&str] = &["database.url"];
/// The keys of `migrate`: the schemas, and the queues the roles consume.
const MIGRATE: &[&str] = &["database.url", "amqp.url"];

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    if let Command::Mail {
        command:
            MailCommand::Deliver {
                gateway,
                api_key,
                account,
                recipients,
                sender,
                timeout,
            },
    } = cli.command
    {
        let delivery = mail::Delivery {
            gateway,
            api_key,
            account,
            recipients,
            sender,
            timeout: std::time::Duration::from_secs(timeout),
        };
        return Ok(mail::deliver(delivery).await);
    }
    run_command(cli.command)
        .await
        .map(|()| std::process::ExitCode::SUCCESS)
}

async fn run_command(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Services => roles::print_roles(&config::load(&[])?),
        Command::Serve { services } => {
            let roles = roles::resolve(&services)?;
            let config = config::load(&roles::required_keys(&roles))?;
            roles::serve(&roles, config).await
        }
        Command::Migrate { services } => {
            let roles = roles::resolve(&services)?;
            roles::migrate(&roles, &config::load(MIGRATE)?).await
        }
        Command::Token { agent, ttl } => {
            let config = config::load(&["gateway.auth.local_token.secret"])?;
            admin::print_token(&config, &agent, ttl)
        }
        Command::Directory {
            command: DirectoryCommand::CreateAdmin { login, name, email },
        } => admin::create_admin(&config::load(DATABASE)?, &login, &name, &email).await,
        Command::Reporting {
            command: ReportingCommand::Rebuild,
        } => admin::rebuild_reporting(&config::load(DATABASE)?).await,
        Command::Bench { command } => {
            // The benchmarks start parts of the mesh in this process: they need what serving does.
            let config = config::load(&roles::required_keys(roles::ROLES))?;
            bench::run(command, &config).await
        }
        Command::Config {
            command: ConfigCommand::Keys,
        } => {
            let mut required: Vec<_> = roles::ROLES
                .iter()
                .map(|role| (role.spec().name, roles::required_keys(&[*role])))
                .collect();
            required.push(("migrate", MIGRATE.to_vec()));
            config::print_keys(&required)
        }
        Command::Config {
            command: ConfigCommand::Check { services },
        } => config::check(&roles::resolve(&services)?),
        Command::Mail { .. } => unreachable!("handled by run"),
    }
}
