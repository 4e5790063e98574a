//! `switchboard bench mail`: raw mails submitted by an MTA (`SubmitRawEmail` with an API key
//! of scope `mail:submit`) through the gateway of a running mesh, each parsed, decoded and
//! made a new ticket, closed loop; beside the parsing and decoding alone in this process at the
//! same concurrency (`parse_only`), and the time the quarantine takes for three MIME bombs.

mod corpus;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use switchboard_gateway::GatewaySettings;
use switchboard_mail_ingest::{decode, screen};
use switchboard_proto::{
    gateway::v1::{ApiKey, CreateApiKeyRequest, api_key_service_client::ApiKeyServiceClient},
    inbound::v1::{
        SubmitRawEmailRequest, SubmitRawEmailResponse, inbound_service_client::InboundServiceClient,
    },
    ticket::v1::{
        CreateMailAccountRequest, MailAccount, MailTlsMode, SmtpSettings, TicketIngestOutcome,
        mail_account_service_client::MailAccountServiceClient,
    },
};
use tonic::{
    Status,
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

use super::{
    callbacks::Load,
    ivr::{self, authorized},
    print_line, run_closed_loop,
};
use crate::config::{Config, RoleSection};

/// The MTA of one run: its API key, the receiving account, connections to the gateway.
#[derive(Clone)]
struct Mta {
    run: Arc<str>,
    account: Arc<str>,
    bearer: Arc<MetadataValue<Ascii>>,
    clients: Arc<Vec<InboundServiceClient<Channel>>>,
}

impl Mta {
    async fn submit(&self, worker: usize, raw: Vec<u8>) -> Result<SubmitRawEmailResponse, Status> {
        let mut client = self.clients[worker % self.clients.len()].clone();
        let request = authorized(
            SubmitRawEmailRequest {
                raw,
                mail_account_id: self.account.to_string(),
                envelope_sender: Some("customer@example.com".into()),
                ..Default::default()
            },
            &self.bearer,
        );
        client
            .submit_raw_email(request)
            .await
            .map(tonic::Response::into_inner)
    }
}

/// Creates the run's API key and receiving account as `admin`, and waits until mail-ingest
/// knows the account (it learns it from the ticket service's event).
async fn set_up(
    settings: &GatewaySettings,
    gateway: &str,
    admin: &str,
    run: &str,
) -> anyhow::Result<Mta> {
    let (channel, admin_bearer) = ivr::sign_in(settings, gateway, admin).await?;
    let secret = ApiKeyServiceClient::new(channel.clone())
        .create_api_key(authorized(
            CreateApiKeyRequest {
                api_key: Some(ApiKey {
                    display_name: format!("bench-mail-{run}"),
                    scopes: vec!["mail:submit".into()],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin_bearer,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the benchmark's API key as {admin:?}: {s}"))?
        .into_inner()
        .secret;
    let account = MailAccountServiceClient::new(channel.clone())
        .create_mail_account(authorized(
            CreateMailAccountRequest {
                mail_account: Some(MailAccount {
                    address: format!("help-{run}@bench.invalid"),
                    display_name: format!("bench mail {run}"),
                    smtp: Some(SmtpSettings {
                        host: "smtp.bench.invalid".into(),
                        tls_mode: MailTlsMode::Starttls as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin_bearer,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the benchmark's mail account: {s}"))?
        .into_inner()
        .mail_account
        .map(|a| a.id)
        .unwrap_or_default();
    let mta = Mta {
        run: run.into(),
        account: account.into(),
        bearer: Arc::new(format!("Bearer {secret}").parse()?),
        clients: Arc::new(
            ivr::spread(gateway, channel)
                .await?
                .into_iter()
                .map(|c| InboundServiceClient::new(c).max_encoding_message_size(128 << 20))
                .collect(),
        ),
    };
    let waited = Instant::now();
    loop {
        let probe = corpus::mail(run, usize::MAX, 0);
        match mta.submit(0, probe).await {
            Ok(_) => return Ok(mta),
            Err(status) if waited.elapsed() < Duration::from_secs(20) => {
                tracing::debug!(%status, "waiting for mail-ingest to learn the account");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => {
                anyhow::bail!("mail-ingest does not take the benchmark's mail: {status}")
            }
        }
    }
}

/// The mail screened, parsed, classified and decoded as mail-ingest does, off the runtime.
async fn parse_only(raw: Vec<u8>) -> bool {
    tokio::task::spawn_blocking(move || {
        screen::check(&raw, &screen::Limits::default()).is_ok()
            && decode::parse(&raw).is_ok_and(|message| {
                let _ = screen::automation(&message, &screen::EnvelopeSender::Absent);
                !decode::decode(&message).text.is_empty()
            })
    })
    .await
    .unwrap_or(false)
}

/// The peak resident size of this process so far (VmHWM), in KiB; 0 where /proc has none.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Each bomb through the gateway (its answer and time), and the screen's time and memory on
/// it in this process.
#[allow(clippy::print_stdout)] // the figures are the command's output
async fn bombs(mta: &Mta) {
    let cases: [(&str, Vec<u8>); 3] = [
        ("nested_1000", corpus::nested(1_000)),
        ("parts_50000", corpus::wide(50_000)),
        ("bytes_100MiB", corpus::huge(100 << 20)),
    ];
    for (name, raw) in cases {
        let size = raw.len();
        let before = peak_rss_kib();
        let started = Instant::now();
        let verdict = screen::check(&raw, &screen::Limits::default());
        let check_ms = started.elapsed().as_secs_f64() * 1_000.0;
        let grown = peak_rss_kib().saturating_sub(before);
        let started = Instant::now();
        let answer = match mta.submit(0, raw).await {
            Ok(response) if response.quarantined => {
                format!("quarantined ({})", response.quarantine_reason)
            }
            Ok(response) => format!("accepted as {:?}", response.outcome()),
            Err(status) => format!("{:?} ({})", status.code(), status.message()),
        };
        println!(
            "bomb {name:<13} bytes={size} submit_ms={:.1} answer={answer} screen_ms={check_ms:.1} \
             screen_peak_rss_growth_kib={grown} screen={}",
            started.elapsed().as_secs_f64() * 1_000.0,
            match verdict {
                Ok(()) => "passed".to_owned(),
                Err(over) => over.to_string(),
            }
        );
    }
}

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(config: &Config, gateway: &str, admin: &str, load: Load) -> anyhow::Result<()> {
    let run = ivr::run_id();
    let settings = config
        .section::<RoleSection<GatewaySettings>>("gateway")?
        .settings;
    let mta = set_up(&settings, gateway, admin, &run).await?;
    println!(
        "mail ingestion: SubmitRawEmail through {gateway} (API key bench-mail-{run}, account help-{run}@bench.invalid), four shapes of Korean mail, each a new ticket, closed loop, concurrency {}, {} s each (after {} s warm-up)",
        load.concurrency,
        load.duration.as_secs(),
        load.warmup.as_secs()
    );
    let parse_run: Arc<str> = run.as_str().into();
    let parsed = run_closed_loop(load.concurrency, load.warmup, load.duration, move |w, s| {
        parse_only(corpus::mail(&parse_run, w, s))
    })
    .await;
    print_line("parse only", &parsed);
    let submitting = mta.clone();
    let mails = run_closed_loop(load.concurrency, load.warmup, load.duration, move |w, s| {
        let mta = submitting.clone();
        async move {
            let raw = corpus::mail(&mta.run, w, s);
            mta.submit(w, raw)
                .await
                .is_ok_and(|r| !r.quarantined && r.outcome() == TicketIngestOutcome::Created)
        }
    })
    .await;
    print_line("mails     ", &mails);
    bombs(&mta).await;
    println!(
        "mails_per_s={:.0} p99_ms={:.2} errors={} parse_only_per_s={:.0} ratio={:.3}",
        mails.per_second(),
        mails.quantile_ms(0.99),
        mails.errors,
        parsed.per_second(),
        mails.per_second() / parsed.per_second(),
    );
    Ok(())
}
