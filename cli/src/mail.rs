//! `switchboard mail deliver`: one message on standard input submitted to mail-ingest through
//! the gateway (`SubmitRawEmail`), for an MTA's pipe transport (Postfix `pipe`, Exim
//! `pipe_transport`). The exit code is what such transports expect (sysexits.h): 0 delivered
//! (also a duplicate, or kept in the quarantine), 75 a temporary failure the MTA retries, and a
//! permanent one (65, 67, 69, 77) the MTA bounces.

use std::{io::Read, process::ExitCode, time::Duration};

use switchboard_proto::inbound::v1::{
    SubmitRawEmailRequest, inbound_service_client::InboundServiceClient,
};
use tonic::{Code, Request, metadata::MetadataValue};

/// Delivered.
const EX_OK: u8 = 0;
/// The message is not acceptable (empty, not a message).
const EX_DATAERR: u8 = 65;
/// No receiving account for the recipients.
const EX_NOUSER: u8 = 67;
/// The account is inactive, or the message is over the size limit: refused for good.
const EX_UNAVAILABLE: u8 = 69;
/// Retry later.
const EX_TEMPFAIL: u8 = 75;
/// The API key is missing, wrong or lacks `mail:submit`.
const EX_NOPERM: u8 = 77;

/// What `deliver` was told.
pub struct Delivery {
    pub gateway: String,
    pub api_key: String,
    pub account: String,
    pub recipients: Vec<String>,
    pub sender: Option<String>,
    pub timeout: Duration,
}

/// The exit code for a refusal with `code`.
fn exit_code(code: Code, message: &str) -> u8 {
    match code {
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::Internal
        | Code::Unknown
        | Code::Aborted
        | Code::Cancelled => EX_TEMPFAIL,
        Code::Unauthenticated | Code::PermissionDenied => EX_NOPERM,
        Code::InvalidArgument
            if message.contains("envelope_recipients") || message.contains("mail_account_id") =>
        {
            EX_NOUSER
        }
        Code::ResourceExhausted | Code::FailedPrecondition => EX_UNAVAILABLE,
        _ => EX_DATAERR,
    }
}

/// Reads standard input and submits it; prints the outcome on standard error.
pub async fn deliver(delivery: Delivery) -> ExitCode {
    let mut raw = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut raw) {
        eprintln!("switchboard mail deliver: cannot read the message: {error}");
        return ExitCode::from(EX_TEMPFAIL);
    }
    match submit(&delivery, raw).await {
        Ok(summary) => {
            eprintln!("switchboard mail deliver: {summary}");
            ExitCode::from(EX_OK)
        }
        Err((code, message)) => {
            eprintln!("switchboard mail deliver: {message}");
            ExitCode::from(code)
        }
    }
}

async fn submit(delivery: &Delivery, raw: Vec<u8>) -> Result<String, (u8, String)> {
    let endpoint = tonic::transport::Endpoint::from_shared(delivery.gateway.clone())
        .map_err(|e| (EX_DATAERR, format!("--gateway: {e}")))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(delivery.timeout);
    let channel = endpoint.connect().await.map_err(|e| {
        (
            EX_TEMPFAIL,
            format!("cannot reach the gateway {}: {e}", delivery.gateway),
        )
    })?;
    let bearer = MetadataValue::try_from(format!("Bearer {}", delivery.api_key)).map_err(|_| {
        (
            EX_NOPERM,
            "the API key is not a valid header value".to_owned(),
        )
    })?;
    let mut request = Request::new(SubmitRawEmailRequest {
        raw,
        mail_account_id: delivery.account.clone(),
        envelope_recipients: delivery.recipients.clone(),
        envelope_sender: delivery.sender.clone(),
        receive_time: None,
    });
    request.metadata_mut().insert("authorization", bearer);
    let response = InboundServiceClient::new(channel)
        .max_encoding_message_size(32 * 1024 * 1024)
        .submit_raw_email(request)
        .await
        .map_err(|status| {
            (
                exit_code(status.code(), status.message()),
                format!("{:?}: {}", status.code(), status.message()),
            )
        })?
        .into_inner();
    Ok(if response.quarantined {
        format!(
            "kept in the quarantine as {}: {}",
            response.inbound_message_id, response.quarantine_reason
        )
    } else {
        format!(
            "{:?}: ticket #{} ({})",
            response.outcome(),
            response.ticket_number,
            response.ticket_id
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_deliver_exit_codes_tell_retry_from_bounce() {
        assert_eq!(exit_code(Code::Unavailable, ""), EX_TEMPFAIL);
        assert_eq!(exit_code(Code::Unauthenticated, ""), EX_NOPERM);
        assert_eq!(
            exit_code(
                Code::InvalidArgument,
                "envelope_recipients: names no account"
            ),
            EX_NOUSER
        );
        assert_eq!(
            exit_code(Code::InvalidArgument, "raw: is required"),
            EX_DATAERR
        );
        assert_eq!(exit_code(Code::ResourceExhausted, ""), EX_UNAVAILABLE);
    }
}
