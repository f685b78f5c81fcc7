//! Shared test harness: the emulator in-process, users and passkeys
//! through the emulator's store, tokens; the servers beside it (a counting
//! proxy, stand-ins for an environment's API) are in `servers`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{SystemTime, UNIX_EPOCH};

use passkeys_broker::{ClientSecret, Config, RateLimit, RunningBroker};
use scalekit_emulator::db::{self, StoredPasskey};
use scalekit_emulator::{testing, RunningEmulator};
use serde_json::{json, Value};
use url::Url;

mod servers;
// Each test file uses some of them.
#[allow(unused_imports)]
pub use servers::{serve, CountingProxy, StubApi};

pub const APP_CLIENT_ID: &str = "ntvc_demo";
pub const BROKER_CLIENT_ID: &str = "skc_demo";
pub const BROKER_CLIENT_SECRET: &str = scalekit_emulator::config::TEST_CLIENT_SECRET;

pub async fn start_emulator() -> RunningEmulator {
    scalekit_emulator::start(scalekit_emulator::Config::for_tests())
        .await
        .expect("emulator starts")
}

/// A broker configuration for `emulator` on an ephemeral port, with limits
/// high enough not to interfere.
pub fn broker_config(emulator: &RunningEmulator) -> Config {
    let mut config = Config::new(
        emulator.base_url().clone(),
        APP_CLIENT_ID,
        BROKER_CLIENT_ID,
        ClientSecret::new(BROKER_CLIENT_SECRET),
    );
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.rate_limit = RateLimit {
        requests_per_minute: 6000,
        burst: 1000,
    };
    config
}

pub async fn start_broker(config: Config) -> RunningBroker {
    passkeys_broker::start(config).await.expect("broker starts")
}

pub fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// A user in the emulator's store.
pub async fn create_user(emulator: &RunningEmulator, email: &str) -> String {
    let email = email.to_owned();
    let user = emulator
        .state()
        .db
        .call(move |c| db::find_or_create_user_by_email(c, &email))
        .await
        .unwrap();
    user.id
}

/// A passkey row for `user_id` (registration itself needs a browser).
pub async fn add_passkey(emulator: &RunningEmulator, user_id: &str, name: &str) -> StoredPasskey {
    let new = testing::synced_platform_passkey(
        user_id,
        &format!("Y3JlZC1{}", uuid::Uuid::new_v4().simple()),
        "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
        name,
    );
    testing::store_passkey(emulator, new).await.unwrap()
}

/// The user's passkeys as the emulator's store holds them.
pub async fn stored_passkeys(emulator: &RunningEmulator, user_id: &str) -> Vec<StoredPasskey> {
    let user_id = user_id.to_owned();
    emulator
        .state()
        .db
        .call(move |c| db::passkeys_for_user(c, &user_id))
        .await
        .unwrap()
}

/// Starts a browser session for the user `user_id` in the emulator's store
/// (as a sign-in does) and returns its id, the `sid` of tokens issued in it.
pub async fn start_session(emulator: &RunningEmulator, user_id: &str) -> String {
    let config = emulator.state().config.clone();
    let user_id = user_id.to_owned();
    let (session, _cookie) = emulator
        .state()
        .db
        .call(move |c| db::create_browser_session(c, &config, &user_id, "conn_email"))
        .await
        .expect("the user exists");
    session.id
}

/// Access-token claims as the emulator issues them, for `sub` and `aud`,
/// in a new live session of `sub` (which must be a user of the emulator).
pub async fn access_claims(emulator: &RunningEmulator, sub: &str, aud: &str, exp: i64) -> Value {
    let session_id = start_session(emulator, sub).await;
    access_claims_in_session(emulator, sub, &session_id, aud, exp)
}

/// Access-token claims as the emulator issues them, naming the session `sid`.
pub fn access_claims_in_session(
    emulator: &RunningEmulator,
    sub: &str,
    sid: &str,
    aud: &str,
    exp: i64,
) -> Value {
    let issued = now();
    json!({
        "iss": emulator.state().issuer(),
        "aud": [aud],
        "sub": sub,
        "oid": "org_test",
        "sid": sid,
        "client_id": aud,
        "exp": exp,
        "iat": issued.min(exp),
        "nbf": issued.min(exp),
        "jti": format!("tkn_{}", uuid::Uuid::new_v4().simple()),
    })
}

/// Signs `claims` with the environment's own active key.
pub fn sign_with_environment_key(emulator: &RunningEmulator, claims: &Value) -> String {
    emulator.state().keys.sign(claims).unwrap()
}

/// An access token with `claims` as the environment issues one: signed
/// with its key and recorded in its store (`jti`, in a token family of the
/// claims' session), so that its introspection says it is active, as it
/// says of a token from a real sign-in.
pub async fn issue_access_token(emulator: &RunningEmulator, claims: &Value) -> String {
    let text = |name: &str| claims[name].as_str().unwrap().to_owned();
    let (jti, sub, sid, client_id) = (text("jti"), text("sub"), text("sid"), text("client_id"));
    let expires_at = claims["exp"].as_i64().unwrap();
    emulator
        .state()
        .db
        .call(move |c| {
            let family = db::TokenFamily {
                id: db::new_id("tfm_"),
                user_id: Some(sub.clone()),
                client_id: client_id.clone(),
                session_id: Some(sid),
                scope: "openid".into(),
                created_at: db::now(),
                revoked_at: None,
            };
            db::insert_token_family(c, &family)?;
            db::insert_access_token(
                c,
                &jti,
                Some(&family.id),
                &client_id,
                Some(&sub),
                expires_at,
            )
        })
        .await
        .unwrap();
    sign_with_environment_key(emulator, claims)
}

/// A user access token for the app, issued by the environment.
pub async fn user_token(emulator: &RunningEmulator, user_id: &str) -> String {
    let claims = access_claims(emulator, user_id, APP_CLIENT_ID, now() + 300).await;
    issue_access_token(emulator, &claims).await
}

/// ID-token claims as the emulator issues them for the app: `sub`, in the
/// session `sid`, authenticated `authenticated_secs_ago` seconds ago.
pub fn id_claims_in_session(
    emulator: &RunningEmulator,
    sub: &str,
    sid: &str,
    authenticated_secs_ago: i64,
) -> Value {
    let issued = now();
    json!({
        "iss": emulator.state().issuer(),
        "aud": [APP_CLIENT_ID],
        "azp": APP_CLIENT_ID,
        "sub": sub,
        "sid": sid,
        "exp": issued + 3600,
        "iat": issued,
        "auth_time": issued - authenticated_secs_ago,
        "amr": ["conn_email"],
        "at_hash": "x4Nw-0Rk8BfoNp2Dq1e0hg",
    })
}

/// A user's access token and ID token for the app, signed by the
/// environment and issued in one new live session; the ID token (the proof
/// of a recent authentication) says they authenticated
/// `authenticated_secs_ago` seconds ago.
pub async fn user_tokens(
    emulator: &RunningEmulator,
    user_id: &str,
    authenticated_secs_ago: i64,
) -> (String, String) {
    let session_id = start_session(emulator, user_id).await;
    let access =
        access_claims_in_session(emulator, user_id, &session_id, APP_CLIENT_ID, now() + 300);
    let id = id_claims_in_session(emulator, user_id, &session_id, authenticated_secs_ago);
    (
        issue_access_token(emulator, &access).await,
        sign_with_environment_key(emulator, &id),
    )
}

/// The header that carries the proof of a recent authentication.
pub const PROOF: &str = scalekit_wire::step_up::RECENT_AUTHENTICATION_HEADER;

/// A plain HTTP client for talking to the broker.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `base` + `path` (path starting with `/`).
pub fn at(base: &Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// The broker's (and the environment's) passkeys listing.
pub const CREDENTIALS: &str = "/api/v1/webauthn/credentials";

/// GET `url` with `token` as the bearer.
pub async fn get_as(
    http: &reqwest::Client,
    url: &str,
    token: impl std::fmt::Display,
) -> reqwest::Response {
    http.get(url).bearer_auth(token).send().await.unwrap()
}

/// Lists the passkeys through `broker` as the bearer of `token`.
pub async fn list_as(broker: &RunningBroker, token: impl std::fmt::Display) -> reqwest::Response {
    get_as(&http(), &at(broker.base_url(), CREDENTIALS), token).await
}

/// GET `path` on `broker` without credentials.
pub async fn get_path(
    http: &reqwest::Client,
    broker: &RunningBroker,
    path: &str,
) -> reqwest::Response {
    http.get(at(broker.base_url(), path)).send().await.unwrap()
}

/// Asserts the grpc-gateway error shape and returns `(code, error_code)`.
pub async fn error_body(response: reqwest::Response) -> (i64, String, String) {
    let body: Value = response.json().await.expect("error body is JSON");
    let code = body["code"].as_i64().expect("code is a number");
    let message = body["message"]
        .as_str()
        .expect("message is a string")
        .to_owned();
    let detail = &body["details"][0];
    assert_eq!(
        detail["@type"],
        "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo"
    );
    let error_code = detail["error_code"]
        .as_str()
        .expect("error_code")
        .to_owned();
    (code, message, error_code)
}

/// Signs `email` in to the app the way the app does it (authorization code
/// with PKCE through the hosted email-code login) and returns the user id,
/// the access token and the ID token the environment issued.
pub async fn sign_in(emulator: &RunningEmulator, email: &str) -> (String, String, String) {
    let (user, tokens) = sign_in_tokens(emulator, email).await;
    let id_token = tokens.id_token.expect("an ID token");
    (user, tokens.access_token, id_token)
}

/// As [`sign_in`]: the user id and everything the environment issued
/// (with a refresh token: the app asks for `offline_access`).
pub async fn sign_in_tokens(emulator: &RunningEmulator, email: &str) -> (String, testing::Tokens) {
    let browser = testing::browser_client().unwrap();
    let tokens = testing::CodeFlow::new(emulator.base_url())
        .with_client(APP_CLIENT_ID, testing::LOOPBACK_REDIRECT_URI)
        .tokens(
            &browser,
            testing::Login::EmailCode(email, &emulator.dev_mailbox()),
        )
        .await
        .unwrap();
    let email = email.to_owned();
    let user = emulator
        .state()
        .db
        .call(move |c| db::user_by_email(c, &email))
        .await
        .unwrap()
        .expect("sign-in created the user");
    (user.id, tokens)
}
