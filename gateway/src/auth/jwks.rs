//! The identity provider's signing keys from its JWKS URL: cached, refreshed periodically, and
//! fetched again (at most every ten seconds) when a token names a key id not seen yet, so key
//! rotation needs no restart.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use jsonwebtoken::{DecodingKey, jwk::JwkSet};
use tokio::sync::Mutex;

use super::tokens::TokenError;

/// How soon an unknown key id may trigger another fetch.
const MIN_REFETCH: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct JwksCache {
    url: String,
    refresh: Duration,
    client: reqwest::Client,
    state: Arc<Mutex<Option<(Instant, JwkSet)>>>,
}

impl JwksCache {
    pub fn new(url: &str, refresh: Duration) -> anyhow::Result<Self> {
        // reqwest's rustls needs a process-wide provider; a second install is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            url: url.to_owned(),
            refresh,
            client,
            state: Arc::new(Mutex::new(None)),
        })
    }

    /// The key named `kid` (or the only key, when the token names none).
    pub async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, TokenError> {
        let mut state = self.state.lock().await;
        let stale = state
            .as_ref()
            .is_none_or(|(fetched, _)| fetched.elapsed() > self.refresh);
        if stale {
            self.fetch_into(&mut state).await?;
        }
        if let Some(key) = find(state.as_ref(), kid) {
            return key;
        }
        let may_refetch = state
            .as_ref()
            .is_none_or(|(fetched, _)| fetched.elapsed() > MIN_REFETCH);
        if may_refetch {
            self.fetch_into(&mut state).await?;
        }
        find(state.as_ref(), kid).unwrap_or(Err(TokenError::UnknownKey))
    }

    async fn fetch_into(&self, state: &mut Option<(Instant, JwkSet)>) -> Result<(), TokenError> {
        let fetched = async {
            self.client
                .get(&self.url)
                .send()
                .await?
                .error_for_status()?
                .json::<JwkSet>()
                .await
        }
        .await;
        match fetched {
            Ok(set) => {
                *state = Some((Instant::now(), set));
                Ok(())
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "cannot fetch the identity provider's keys");
                // Keys fetched before stay in use until a fetch succeeds; the next attempt waits
                // MIN_REFETCH, so an unreachable provider does not slow every call.
                match state {
                    Some((fetched, _)) => {
                        *fetched = Instant::now()
                            .checked_sub(self.refresh.saturating_sub(MIN_REFETCH))
                            .unwrap_or_else(Instant::now);
                        Ok(())
                    }
                    None => Err(TokenError::KeysUnavailable),
                }
            }
        }
    }
}

fn find(
    state: Option<&(Instant, JwkSet)>,
    kid: Option<&str>,
) -> Option<Result<DecodingKey, TokenError>> {
    let (_, set) = state?;
    let jwk = match kid {
        Some(kid) => set.find(kid)?,
        None if set.keys.len() == 1 => &set.keys[0],
        None => return None,
    };
    Some(DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey))
}
