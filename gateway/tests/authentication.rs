//! Every way a caller can fail to prove who they are ends in UNAUTHENTICATED; every way an
//! authenticated caller can reach past their role or scope ends in PERMISSION_DENIED.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::{ADMIN, Harness, bearer};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use switchboard_gateway::config::IdpConfig;
use switchboard_proto::gateway::v1::{
    AgentRole, ApiKey, ApiKeyState, CreateApiKeyRequest, CreateGroupRequest, CredentialKind,
    GetAgentRequest, Group, ListApiKeysRequest, ListGroupsRequest, RevokeApiKeyRequest,
    WhoAmIRequest, WhoAmIResponse, api_key_service_client::ApiKeyServiceClient,
    auth_service_client::AuthServiceClient,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::{Code, Request, Status};

const IDP_ISSUER: &str = "https://idp.example.com";
const IDP_AUDIENCE: &str = "switchboard-console";
const PRIVATE_KEY: &[u8] = include_bytes!("keys/idp_rsa_private.pem");
const PUBLIC_KEY: &[u8] = include_bytes!("keys/idp_rsa_public.pem");
const JWKS: &str = include_str!("keys/idp_jwks.json");

/// Serves the identity provider's JWKS document over plain HTTP on a free port.
async fn serve_jwks() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{JWKS}",
                    JWKS.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/.well-known/jwks.json")
}

async fn start() -> Harness {
    let jwks_url = serve_jwks().await;
    Harness::start_with(
        Vec::new(),
        |settings| {
            settings.auth.idp = Some(IdpConfig {
                issuer: IDP_ISSUER.into(),
                audience: IDP_AUDIENCE.into(),
                jwks_url,
                ..IdpConfig::default()
            });
        },
        Default::default(),
    )
    .await
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn idp_claims(sub: &str) -> serde_json::Value {
    json!({ "iss": IDP_ISSUER, "aud": IDP_AUDIENCE, "sub": sub, "iat": now(), "exp": now() + 600 })
}

/// A token the identity provider would sign (RS256, its key id).
fn idp_token(claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-rsa-1".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(PRIVATE_KEY).unwrap(),
    )
    .unwrap()
}

fn unsigned(header: serde_json::Value, claims: &serde_json::Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// HS256 over header and claims with `secret` as the HMAC key.
fn hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn who_am_i(
    harness: &Harness,
    request: Request<WhoAmIRequest>,
) -> Result<WhoAmIResponse, Status> {
    AuthServiceClient::new(harness.channel().await)
        .who_am_i(request)
        .await
        .map(|r| r.into_inner())
}

fn with_header(name: &'static str, value: &str) -> Request<WhoAmIRequest> {
    let mut request = Request::new(WhoAmIRequest {});
    request.metadata_mut().insert(name, value.parse().unwrap());
    request
}

#[tokio::test]
async fn bad_tokens_of_every_kind_are_unauthenticated() {
    let harness = start().await;
    harness
        .create_agent("kim", AgentRole::Agent, &["phone"], &[])
        .await;

    // The real thing first: the identity provider's token for an agent of the directory.
    let me = who_am_i(
        &harness,
        bearer(WhoAmIRequest {}, &idp_token(&idp_claims("kim"))),
    )
    .await
    .expect("a valid IdP token is accepted");
    assert_eq!(me.principal.as_ref().unwrap().subject, "kim");
    assert_eq!(me.credential_kind(), CredentialKind::IdpToken);

    let expired =
        json!({ "iss": IDP_ISSUER, "aud": IDP_AUDIENCE, "sub": "kim", "exp": now() - 3_600 });
    let not_yet = json!({ "iss": IDP_ISSUER, "aud": IDP_AUDIENCE, "sub": "kim", "nbf": now() + 3_600, "exp": now() + 7_200 });
    let mut wrong_audience = idp_claims("kim");
    wrong_audience["aud"] = json!("another-app");
    let mut wrong_issuer = idp_claims("kim");
    wrong_issuer["iss"] = json!("https://evil.example.com");
    let valid = idp_token(&idp_claims("kim"));
    let (head, rest) = valid.split_once('.').unwrap();
    let signature = rest.split_once('.').unwrap().1;
    let tampered = format!(
        "{head}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(idp_claims(ADMIN).to_string())
    );
    let cases: Vec<(&str, Request<WhoAmIRequest>, &str)> = vec![
        (
            "missing",
            Request::new(WhoAmIRequest {}),
            "credentials required",
        ),
        (
            "not a JWT",
            bearer(WhoAmIRequest {}, "not-a-token"),
            "malformed",
        ),
        (
            "not bearer",
            with_header("authorization", "Basic a2ltOnB3"),
            "Bearer",
        ),
        (
            "expired",
            bearer(WhoAmIRequest {}, &idp_token(&expired)),
            "expired",
        ),
        (
            "not yet valid",
            bearer(WhoAmIRequest {}, &idp_token(&not_yet)),
            "not valid yet",
        ),
        (
            "wrong audience",
            bearer(WhoAmIRequest {}, &idp_token(&wrong_audience)),
            "audience",
        ),
        (
            "wrong issuer",
            bearer(WhoAmIRequest {}, &idp_token(&wrong_issuer)),
            "issuer",
        ),
        (
            "alg none",
            bearer(
                WhoAmIRequest {},
                &unsigned(
                    json!({"alg": "none", "typ": "JWT"}),
                    &idp_claims(ADMIN),
                    b"",
                ),
            ),
            "algorithm",
        ),
        (
            "HS256 signed with the IdP's public key",
            bearer(WhoAmIRequest {}, &hs256(&idp_claims(ADMIN), PUBLIC_KEY)),
            "algorithm",
        ),
        (
            "HS256 with the public key, posing as the gateway's own",
            bearer(
                WhoAmIRequest {},
                &hs256(
                    &json!({"iss": "switchboard", "aud": "switchboard", "sub": ADMIN, "exp": now() + 600}),
                    PUBLIC_KEY,
                ),
            ),
            "signature",
        ),
        (
            "tampered claims",
            bearer(WhoAmIRequest {}, &tampered),
            "signature",
        ),
        (
            "unknown agent",
            bearer(WhoAmIRequest {}, &idp_token(&idp_claims("nobody"))),
            "not an agent",
        ),
    ];
    for (case, request, says) in cases {
        let status = who_am_i(&harness, request).await.expect_err(case);
        assert_eq!(status.code(), Code::Unauthenticated, "{case}: {status:?}");
        assert!(
            status.message().contains(says),
            "{case}: {:?} should say {says:?}",
            status.message()
        );
    }

    // A disabled agent's tokens stop working at once.
    let token = harness.token("kim");
    assert!(
        who_am_i(&harness, bearer(WhoAmIRequest {}, &token))
            .await
            .is_ok()
    );
    harness.disable_agent("kim").await;
    let status = who_am_i(&harness, bearer(WhoAmIRequest {}, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("disabled"), "{status:?}");
    harness.stop().await;
}

#[tokio::test]
async fn api_keys_are_scoped_revocable_and_shown_once() {
    let harness = start().await;
    let (key, secret) = harness
        .create_api_key("ivr-main", &["callbacks:create"])
        .await;
    assert!(secret.starts_with("sbk_") && secret.len() == 47, "{secret}");
    assert!(secret.starts_with(&key.key_prefix));

    let me = who_am_i(&harness, bearer(WhoAmIRequest {}, &secret))
        .await
        .unwrap();
    let principal = me.principal.clone().unwrap();
    assert_eq!(
        (principal.subject.as_str(), principal.scopes.as_slice()),
        ("ivr-main", &["callbacks:create".to_string()][..])
    );
    assert_eq!(me.credential_kind(), CredentialKind::ApiKey);
    assert_eq!(me.api_key_id, key.id);

    // The other documented ways of sending a key.
    for (header, value) in [
        ("authorization", format!("ApiKey {secret}")),
        ("x-api-key", secret.clone()),
    ] {
        let mut request = Request::new(WhoAmIRequest {});
        request
            .metadata_mut()
            .insert(header, value.parse().unwrap());
        let me = who_am_i(&harness, request)
            .await
            .unwrap_or_else(|e| panic!("{header}: {e:?}"));
        assert_eq!(me.api_key_id, key.id);
    }

    // Outside its scope: the directory is not for the IVR.
    let status = harness
        .directory()
        .await
        .list_groups(bearer(ListGroupsRequest::default(), &secret))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("directory:read"), "{status:?}");

    // An unknown scope is refused by name, and nothing is created.
    let mut keys = ApiKeyServiceClient::new(harness.channel().await);
    let status = keys
        .create_api_key(bearer(
            CreateApiKeyRequest {
                api_key: Some(ApiKey {
                    display_name: "crm".into(),
                    scopes: vec!["callbacks:read".into(), "root:everything".into()],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &harness.token(ADMIN),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        switchboard_platform::error::violated_fields(&status),
        ["api_key.scopes[1]"]
    );

    // Revoked: refused at once.
    keys.revoke_api_key(bearer(
        RevokeApiKeyRequest { id: key.id.clone() },
        &harness.token(ADMIN),
    ))
    .await
    .unwrap();
    let status = who_am_i(&harness, bearer(WhoAmIRequest {}, &secret))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    // The use is recorded in the background: wait for it rather than race it.
    let recorded =
        switchboard_platform::testing::eventually(std::time::Duration::from_secs(5), || async {
            let (used,): (bool,) =
                sqlx::query_as("SELECT last_used_time IS NOT NULL FROM api_keys")
                    .fetch_one(&harness.pool)
                    .await
                    .unwrap();
            used
        })
        .await;
    assert!(recorded, "the key's use is written within 5 s");
    let listed = keys
        .list_api_keys(bearer(
            ListApiKeysRequest {
                show_inactive: true,
                ..Default::default()
            },
            &harness.token(ADMIN),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 1);
    let listed = &listed.api_keys[0];
    assert_eq!(listed.state(), ApiKeyState::Revoked);
    assert!(
        listed.last_used_time.is_some(),
        "the key's use was recorded"
    );
    assert_eq!(listed.revoked_by.as_ref().unwrap().subject, ADMIN);
    let active = keys
        .list_api_keys(bearer(ListApiKeysRequest::default(), &harness.token(ADMIN)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(active.total_size, 0, "revoked keys are hidden by default");
    harness.stop().await;
}

#[tokio::test]
async fn agents_cannot_reach_admin_methods_or_other_agents() {
    let harness = start().await;
    harness
        .create_agent("kim", AgentRole::Agent, &["phone"], &[])
        .await;
    harness
        .create_agent("lee", AgentRole::Agent, &[], &[])
        .await;
    let kim = harness.token("kim");

    let status = harness
        .directory()
        .await
        .create_group(bearer(
            CreateGroupRequest {
                group: Some(Group {
                    display_name: "상담 1팀".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &kim,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = ApiKeyServiceClient::new(harness.channel().await)
        .list_api_keys(bearer(ListApiKeysRequest::default(), &kim))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    // Row level: an agent reads their own record only, whether or not the other exists.
    let mut directory = harness.directory().await;
    let own = directory
        .get_agent(bearer(
            GetAgentRequest {
                login: "kim".into(),
            },
            &kim,
        ))
        .await
        .unwrap();
    assert_eq!(own.into_inner().agent.unwrap().login, "kim");
    for other in ["lee", "nobody"] {
        let status = directory
            .get_agent(bearer(
                GetAgentRequest {
                    login: other.into(),
                },
                &kim,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{other}: {status:?}");
    }
    harness.stop().await;
}
