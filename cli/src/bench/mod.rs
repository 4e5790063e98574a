//! Load generators: programs that print figures, never timed assertions. Each measures its
//! subject and a baseline in the same run and prints their ratio, because shared machines are
//! noisy (DESIGN §4).

pub mod callbacks;
pub mod export;
pub mod gateway;
mod load;
pub mod reporting;

use tonic::transport::Channel;

pub use load::{LoadResult, run_closed_loop};

/// One result's figures on one line.
#[allow(clippy::print_stdout)] // the figures are the command's output
fn print_line(name: &str, result: &LoadResult) {
    println!(
        "{name}  calls={} errors={} rps={:.0} p50_ms={:.3} p99_ms={:.3} p99.9_ms={:.3}",
        result.calls,
        result.errors,
        result.per_second(),
        result.quantile_ms(0.5),
        result.quantile_ms(0.99),
        result.quantile_ms(0.999),
    );
}

async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Channel> {
    connect_url(&format!("http://{addr}")).await
}

async fn connect_url(url: &str) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(url.to_owned())?.connect().await?)
}
