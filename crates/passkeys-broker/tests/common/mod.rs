//! Shared test harness: the emulator in-process, a counting proxy in front of
//! it, users and passkeys through the emulator's store, tokens.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use passkeys_broker::{ClientSecret, Config, RateLimit, RunningBroker};
use scalekit_emulator::db::{self, StoredPasskey};
use scalekit_emulator::{testing, RunningEmulator};
use serde_json::{json, Value};
use url::Url;

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

/// A user access token for the app, signed by the environment.
pub async fn user_token(emulator: &RunningEmulator, user_id: &str) -> String {
    let claims = access_claims(emulator, user_id, APP_CLIENT_ID, now() + 300).await;
    sign_with_environment_key(emulator, &claims)
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
        sign_with_environment_key(emulator, &access),
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

/// An HTTP proxy in front of the emulator that counts requests by
/// `METHOD path`.
pub struct CountingProxy {
    pub base_url: Url,
    counts: Arc<Mutex<HashMap<String, usize>>>,
    shutdown: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

#[derive(Clone)]
struct ProxyState {
    target: Url,
    http: reqwest::Client,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl CountingProxy {
    pub async fn start(target: &Url) -> Self {
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let state = ProxyState {
            target: target.clone(),
            http: http(),
            counts: counts.clone(),
        };
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            base_url: format!("http://{addr}/").parse().unwrap(),
            counts,
            shutdown: Mutex::new(Some(shutdown)),
        }
    }

    /// How many `method path` requests went through.
    pub fn count(&self, method: &str, path: &str) -> usize {
        let key = format!("{method} {path}");
        self.counts.lock().unwrap().get(&key).copied().unwrap_or(0)
    }

    /// `path` (relative, no leading `/`) behind the proxy.
    pub fn url(&self, path: &str) -> Url {
        self.base_url.join(path).unwrap()
    }

    pub fn token_requests(&self) -> usize {
        self.count("POST", "/oauth/token")
    }

    /// Stops accepting connections (open ones close once idle).
    pub fn stop(&self) {
        if let Some(shutdown) = self.shutdown.lock().unwrap().take() {
            let _ = shutdown.send(());
        }
    }
}

async fn forward(
    State(state): State<ProxyState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = format!("{method} {}", uri.path());
    *state.counts.lock().unwrap().entry(key).or_default() += 1;
    let mut url = state.target.clone();
    url.set_path(uri.path());
    url.set_query(uri.query());
    let mut request = state.http.request(method, url).body(body);
    for name in ["authorization", "content-type", "accept"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = answer.bytes().await.unwrap_or_default();
            (status, [("content-type", content_type)], bytes).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// Signs `email` in to the app the way the app does it (authorization code
/// with PKCE through the hosted email-code login) and returns the user id,
/// the access token and the ID token the environment issued.
pub async fn sign_in(emulator: &RunningEmulator, email: &str) -> (String, String, String) {
    let browser = testing::browser_client().unwrap();
    let tokens = testing::CodeFlow::new(emulator.base_url())
        .with_client(APP_CLIENT_ID, testing::LOOPBACK_REDIRECT_URI)
        .tokens(
            &browser,
            testing::Login::EmailCode(email, &emulator.dev_mailbox()),
        )
        .await
        .unwrap();
    let access_token = tokens.access_token;
    let id_token = tokens.id_token.expect("an ID token");
    let email = email.to_owned();
    let user = emulator
        .state()
        .db
        .call(move |c| db::user_by_email(c, &email))
        .await
        .unwrap()
        .expect("sign-in created the user");
    (user.id, access_token, id_token)
}

/// A stand-in for the environment's API (`upstream_api_url`): every session
/// is `active` for whoever asks, and the credentials routes answer `status`
/// with `body`.
pub struct StubApi {
    pub base_url: Url,
}

impl StubApi {
    pub async fn start(status: u16, body: Value) -> Self {
        use axum::routing::get;
        let status = StatusCode::from_u16(status).unwrap();
        let session = |axum::extract::Path(id): axum::extract::Path<String>, headers: HeaderMap| async move {
            assert!(
                headers.contains_key("authorization"),
                "the broker authenticates"
            );
            axum::Json(json!({"session_id": id, "user_id": "usr_deleted", "status": "active"}))
        };
        let app = Router::new()
            .route("/api/v1/sessions/{id}", get(session))
            .fallback(move || {
                let body = body.clone();
                async move { (status, axum::Json(body)) }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base_url: format!("http://{addr}/").parse().unwrap(),
        }
    }
}
