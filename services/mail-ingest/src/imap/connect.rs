//! An authenticated IMAP session: TCP, TLS (implicit, or STARTTLS before anything else is
//! sent), the greeting, and LOGIN with the password resolved just now. Certificates are checked
//! against the system's trusted roots and the `mail_ca_file` setting's.

use std::{fmt, sync::Arc, time::Duration};

use anyhow::Context as _;
use async_imap::{Client, Session};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};
use tokio_rustls::{
    TlsConnector,
    rustls::{
        ClientConfig, RootCertStore,
        pki_types::{CertificateDer, ServerName, pem::PemObject},
    },
};

use super::endpoint::{Endpoint, Security};
use crate::secrets;

/// How long connecting, the TLS handshake and the greeting may take; and the login.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Io for T {}

pub type ImapSession = Session<Box<dyn Io>>;

/// The TLS configuration of every IMAP connection: the system's roots and those of `ca_file`
/// (a PEM file; empty: none), read once at the start.
pub fn tls_config(ca_file: &str) -> anyhow::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::warn!(%error, "a system certificate could not be loaded");
    }
    let (mut added, _) = roots.add_parsable_certificates(found.certs);
    if !ca_file.is_empty() {
        for certificate in CertificateDer::pem_file_iter(ca_file)
            .with_context(|| format!("mail_ca_file {ca_file}"))?
        {
            let certificate = certificate.with_context(|| format!("mail_ca_file {ca_file}"))?;
            roots
                .add(certificate)
                .with_context(|| format!("a certificate of mail_ca_file {ca_file}"))?;
            added += 1;
        }
    }
    if added == 0 {
        tracing::warn!("no trusted root certificates: IMAP over TLS will fail");
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn io_error(step: &str, error: impl fmt::Display) -> String {
    format!("imap {step} failed: {error}")
}

async fn tls(
    config: &Arc<ClientConfig>,
    host: &str,
    tcp: TcpStream,
) -> Result<Box<dyn Io>, String> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| format!("imap host {host} is no valid TLS server name"))?;
    let stream = TlsConnector::from(config.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| io_error("tls handshake", e))?;
    Ok(Box::new(stream))
}

/// Reads the server's greeting.
async fn greeting(client: &mut Client<impl Io>) -> Result<(), String> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("imap connection closed before the greeting".into()),
        Err(e) => Err(io_error("greeting", e)),
    }
}

async fn connected(
    endpoint: &Endpoint,
    config: &Arc<ClientConfig>,
) -> Result<Client<Box<dyn Io>>, String> {
    let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|e| {
            io_error(
                &format!("connect to {}:{}", endpoint.host, endpoint.port),
                e,
            )
        })?;
    match endpoint.tls {
        Security::Implicit => {
            let mut client = Client::new(tls(config, &endpoint.host, tcp).await?);
            greeting(&mut client).await?;
            Ok(client)
        }
        Security::StartTls => {
            let mut plain = Client::new(tcp);
            greeting(&mut plain).await?;
            plain
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| io_error("starttls", e))?;
            let upgraded = tls(config, &endpoint.host, plain.into_inner()).await?;
            Ok(Client::new(upgraded))
        }
        Security::Plain => {
            let mut client = Client::new(Box::new(tcp) as Box<dyn Io>);
            greeting(&mut client).await?;
            Ok(client)
        }
    }
}

/// A session logged in to `endpoint`'s server.
pub async fn login(endpoint: &Endpoint, config: &Arc<ClientConfig>) -> Result<ImapSession, String> {
    let client = tokio::time::timeout(CONNECT_TIMEOUT, connected(endpoint, config))
        .await
        .map_err(|_| {
            format!(
                "imap connect to {}:{} timed out",
                endpoint.host, endpoint.port
            )
        })??;
    let password = secrets::resolve(&endpoint.secret_ref)?;
    tokio::time::timeout(
        CONNECT_TIMEOUT,
        client.login(&endpoint.username, password.expose()),
    )
    .await
    .map_err(|_| "imap login timed out".to_owned())?
    .map_err(|(e, _)| io_error("login", e))
}
