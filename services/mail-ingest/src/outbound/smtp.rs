//! Sending one mail through an account's SMTP server: implicit TLS or STARTTLS (required), or
//! none only with `allow_insecure_mail`; the password from its reference. The answer tells a
//! permanent refusal (5xx, never retried) from a temporary failure (4xx, connection, TLS,
//! timeout). The session runs in a task of its own: lettre 0.11.23 panics on some server
//! replies (RUSTSEC-2026-0562, a whitespace-only EHLO line), and such a server must cost one
//! failed attempt, not the sender.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};
use switchboard_proto::ticket::v1::{MailTlsMode, SmtpSettings};

use crate::secrets;

/// A failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub permanent: bool,
    pub message: String,
}

impl Failure {
    fn temporary(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            message: message.into(),
        }
    }

    fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
        }
    }
}

/// The port `settings` name, or the protocol's default for its TLS mode.
fn port(settings: &SmtpSettings, mode: MailTlsMode) -> u16 {
    match u16::try_from(settings.port) {
        Ok(port) if port > 0 => port,
        _ if mode == MailTlsMode::Implicit => 465,
        _ => 587,
    }
}

/// Sends `message` through `settings`' server; the server's reply to the message.
pub async fn send(
    settings: &SmtpSettings,
    allow_insecure: bool,
    timeout: Duration,
    message: Message,
) -> Result<String, Failure> {
    let mode = match MailTlsMode::try_from(settings.tls_mode) {
        Ok(MailTlsMode::Unspecified) | Err(_) => MailTlsMode::Starttls,
        Ok(mode) => mode,
    };
    let host = settings.host.trim().to_owned();
    let tls = || {
        TlsParameters::new(host.clone())
            .map_err(|e| Failure::temporary(format!("TLS settings for {host}: {e}")))
    };
    let tls = match mode {
        MailTlsMode::Implicit => Tls::Wrapper(tls()?),
        MailTlsMode::None if allow_insecure => Tls::None,
        MailTlsMode::None => {
            return Err(Failure::temporary(
                "the account's SMTP has no TLS, which is refused unless allow_insecure_mail is set",
            ));
        }
        _ => Tls::Required(tls()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
        .port(port(settings, mode))
        .tls(tls)
        .timeout(Some(timeout));
    if !settings.username.is_empty() {
        let password = secrets::resolve(&settings.secret_ref)
            .map_err(|e| Failure::temporary(format!("the SMTP password: {e}")))?;
        builder = builder.credentials(Credentials::new(
            settings.username.clone(),
            password.expose().to_owned(),
        ));
    }
    let transport = builder.build();
    let session = tokio::spawn(async move { transport.send(message).await });
    match tokio::time::timeout(timeout * 3, session).await {
        Err(_) => Err(Failure::temporary(format!(
            "the SMTP session with {host} took longer than {:?}",
            timeout * 3
        ))),
        Ok(Err(panicked)) => Err(Failure::temporary(format!(
            "the SMTP session with {host} failed unexpectedly ({panicked})"
        ))),
        Ok(Ok(Ok(response))) => Ok(format!(
            "{} {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        )),
        Ok(Ok(Err(error))) if error.is_permanent() => Err(Failure::permanent(format!(
            "{host} refused the mail: {error}"
        ))),
        Ok(Ok(Err(error))) => Err(Failure::temporary(format!("{host}: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use tokio::{
        io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
        net::TcpListener,
    };

    use super::*;

    /// A server whose EHLO reply holds a whitespace-only line, on which lettre 0.11.23 panics
    /// (RUSTSEC-2026-0562).
    async fn hostile_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 hostile ESMTP\r\n").await.ok();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let reply: &[u8] = if line.to_ascii_uppercase().starts_with("EHLO") {
                            b"250-hostile\r\n250    \r\n"
                        } else {
                            b"250 ok\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn a_server_that_makes_the_smtp_client_panic_costs_one_failed_attempt() {
        let port = hostile_server().await;
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port: i32::from(port),
            tls_mode: MailTlsMode::None as i32,
            ..Default::default()
        };
        let message = Message::builder()
            .from("help@center.example".parse().unwrap())
            .to("kim@example.com".parse().unwrap())
            .subject("x")
            .body(String::from("x"))
            .unwrap();
        let failure = send(&settings, true, Duration::from_secs(5), message.clone())
            .await
            .unwrap_err();
        assert!(!failure.permanent, "{failure:?}");
        assert!(failure.message.contains("unexpectedly"), "{failure:?}");
        // Without allow_insecure_mail, a plain-text server is never used.
        let refused = send(&settings, false, Duration::from_secs(5), message)
            .await
            .unwrap_err();
        assert!(
            refused.message.contains("allow_insecure_mail"),
            "{refused:?}"
        );
    }
}
