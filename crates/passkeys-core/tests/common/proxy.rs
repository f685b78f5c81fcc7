//! The emulator and the passkeys broker behind a tampering proxy: it counts
//! grants and API calls and can forge, delay, cut or replace any answer.
//!
//! As in production, the app reaches the passkeys API only through the
//! broker (the emulator refuses a user's token there, as Scalekit does). The
//! broker talks to the emulator directly, so the proxy sees the app's
//! requests only: its sign-in and token requests to the emulator, its
//! passkeys calls to the broker.

use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use passkeys_broker::RunningBroker;
use passkeys_core::{Config, RedirectMode};
use scalekit_emulator::{DevMailbox, RunningEmulator};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use super::{CLIENT_ID, DEEP_LINK};

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path with query.
    pub target: String,
    /// The request line and headers.
    pub head: String,
    pub body: Vec<u8>,
}

impl Request {
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    pub fn is_grant(&self, grant_type: &str) -> bool {
        self.method == "POST"
            && self.target == "/oauth/token"
            && self.form().get("grant_type").map(String::as_str) == Some(grant_type)
    }

    pub fn is_api(&self) -> bool {
        self.target.starts_with("/api/v1/webauthn/credentials")
    }

    /// The value of header `name`, if sent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }
}

/// The emulator's answer, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// What the proxy does with one request.
pub enum Action {
    /// Pass it on unchanged.
    Forward,
    /// Pass it on, then send these bytes instead of the answer.
    Rewrite(Box<dyn FnOnce(Response) -> Vec<u8> + Send>),
    /// Answer with these bytes without asking the emulator.
    Respond(Vec<u8>),
    /// Wait, then pass it on.
    Slow(Duration),
    /// Close the connection without an answer (the network went down).
    Cut,
    /// Pass it on, read the answer, then hold it until the gate opens.
    Hold(Arc<Gate>),
}

/// Holds an answer the emulator already gave: `held` is signalled when the
/// proxy has it, `release` lets it go to the app.
#[derive(Default)]
pub struct Gate {
    pub held: tokio::sync::Notify,
    pub release: tokio::sync::Notify,
}

pub type Rule = Arc<dyn Fn(&Request) -> Action + Send + Sync>;

#[derive(Default)]
pub struct Proxy {
    rule: Mutex<Option<Rule>>,
    pub code_grants: AtomicUsize,
    pub refresh_grants: AtomicUsize,
    pub api_requests: AtomicUsize,
    pub requests: Mutex<Vec<String>>,
}

/// The emulator, reachable only through the tampering proxy at `base_url`,
/// and the passkeys broker in front of it, reachable through the same proxy
/// at `api_url`.
pub struct Env {
    pub emulator: RunningEmulator,
    pub broker: RunningBroker,
    pub base_url: Url,
    /// The emulator's dev mailbox, with this run's key.
    pub mailbox: DevMailbox,
    /// The broker (through the proxy): the app's passkeys API URL.
    pub api_url: Url,
    pub proxy: Arc<Proxy>,
}

/// The confidential client the broker uses, as the emulator's test
/// configuration registers it.
pub const BROKER_CLIENT_ID: &str = "skc_demo";

impl Env {
    pub async fn start() -> Env {
        Env::start_with(|_| {}).await
    }

    /// As [`Env::start`], with the broker's configuration changed by `tune`.
    pub async fn start_with(tune: impl FnOnce(&mut passkeys_broker::Config)) -> Env {
        let proxy_v4 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = proxy_v4.local_addr().unwrap().port();
        let proxy_v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await.ok();
        let base_url = Url::parse(&format!("http://localhost:{port}")).unwrap();
        let upstream = free_port();
        let mut config = scalekit_emulator::Config::for_tests();
        config.listen = upstream;
        config.public_url = Some(base_url.clone());
        let broker_secret = config
            .client(BROKER_CLIENT_ID)
            .and_then(|client| client.secret.as_ref())
            .expect("the emulator's test configuration registers the broker's client")
            .secret()
            .to_string();
        let emulator = scalekit_emulator::start(config).await.unwrap();
        let proxy = Arc::new(Proxy::default());
        for listener in std::iter::once(proxy_v4).chain(proxy_v6) {
            tokio::spawn(serve(listener, upstream, Arc::clone(&proxy)));
        }
        let broker = start_broker(emulator.base_url(), upstream, &broker_secret, tune).await;
        let broker_proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_url =
            Url::parse(&format!("http://{}/", broker_proxy.local_addr().unwrap())).unwrap();
        tokio::spawn(serve(broker_proxy, broker.local_addr(), Arc::clone(&proxy)));
        Env {
            base_url: emulator.base_url().clone(),
            mailbox: emulator.dev_mailbox(),
            emulator,
            broker,
            api_url,
            proxy,
        }
    }

    /// A configuration for this environment, with the broker as its passkeys API.
    pub fn config(&self, redirect: RedirectMode) -> Config {
        let mut config =
            Config::new(self.base_url.clone(), CLIENT_ID).with_api_url(self.api_url.clone());
        config.redirect = redirect;
        config.sign_in_timeout = Duration::from_secs(60);
        config
    }

    pub fn deep_link_config(&self) -> Config {
        self.config(super::deep_link())
    }

    pub fn set_rule(&self, rule: impl Fn(&Request) -> Action + Send + Sync + 'static) {
        *self.proxy.rule.lock().unwrap() = Some(Arc::new(rule));
    }

    /// Applies `action` to the requests `matches` picks and forwards the rest.
    pub fn when(
        &self,
        matches: impl Fn(&Request) -> bool + Send + Sync + 'static,
        action: impl Fn() -> Action + Send + Sync + 'static,
    ) {
        self.set_rule(move |request| {
            if matches(request) {
                action()
            } else {
                Action::Forward
            }
        });
    }

    /// Answers the requests `matches` picks with `answer` and forwards the rest.
    pub fn respond_when(
        &self,
        matches: impl Fn(&Request) -> bool + Send + Sync + 'static,
        answer: Vec<u8>,
    ) {
        self.when(matches, move || Action::Respond(answer.clone()));
    }

    pub fn clear_rule(&self) {
        *self.proxy.rule.lock().unwrap() = None;
    }

    pub fn code_grants(&self) -> usize {
        self.proxy.code_grants.load(Ordering::SeqCst)
    }

    pub fn refresh_grants(&self) -> usize {
        self.proxy.refresh_grants.load(Ordering::SeqCst)
    }

    pub fn api_requests(&self) -> usize {
        self.proxy.api_requests.load(Ordering::SeqCst)
    }

    /// The emulator's current signing key id and its public JWK.
    pub fn public_jwk(&self) -> Value {
        self.emulator.state().keys.jwks()["keys"][0].clone()
    }

    /// Signs claims with the emulator's real key (RS256, its `kid`).
    pub fn sign(&self, claims: &Value) -> String {
        self.emulator.state().keys.sign(claims).unwrap()
    }

    /// A refresh-token grant the way any client would send it.
    pub async fn refresh_grant(&self, refresh_token: &str) -> reqwest::Response {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// A token request the way any client (or attacker) would send it.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.base_url.join("/oauth/token").unwrap())
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// The passkeys broker for the emulator whose issuer is `environment_url`
/// (the proxy); its own calls (client-credentials token, keys, credentials,
/// sessions) go straight to the emulator at `upstream`, past the proxy.
async fn start_broker(
    environment_url: &Url,
    upstream: SocketAddr,
    secret: &str,
    tune: impl FnOnce(&mut passkeys_broker::Config),
) -> RunningBroker {
    let direct = Url::parse(&format!("http://{upstream}/")).unwrap();
    let mut config = passkeys_broker::Config::new(
        environment_url.clone(),
        CLIENT_ID,
        BROKER_CLIENT_ID,
        passkeys_broker::ClientSecret::new(secret),
    );
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.upstream_api_url = Some(direct.clone());
    config.token_url = Some(direct.join("oauth/token").unwrap());
    config.jwks_url = Some(direct.join("keys").unwrap());
    config.introspection_url = Some(direct.join("oauth/introspect").unwrap());
    // The load tests send a hundred calls at once for one user.
    config.rate_limit = passkeys_broker::RateLimit {
        requests_per_minute: 60_000,
        burst: 10_000,
    };
    tune(&mut config);
    passkeys_broker::start(config).await.unwrap()
}

/// A port the OS just handed out (and took back) for the emulator.
fn free_port() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

async fn serve(listener: TcpListener, upstream: SocketAddr, proxy: Arc<Proxy>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(proxy_one(stream, upstream, Arc::clone(&proxy)));
    }
}

async fn read_message(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length = content_length(&head).unwrap_or(0);
    while buffer.len() < head_end + 4 + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Some((head, buffer[head_end + 4..].to_vec()))
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    })
}

async fn proxy_one(mut client: TcpStream, upstream: SocketAddr, proxy: Arc<Proxy>) {
    let Some((head, body)) = read_message(&mut client).await else {
        return;
    };
    let request_line = head.lines().next().unwrap_or_default().to_string();
    let mut parts = request_line.split(' ');
    let request = Request {
        method: parts.next().unwrap_or_default().to_string(),
        target: parts.next().unwrap_or_default().to_string(),
        head: head.clone(),
        body: body.clone(),
    };
    if request.is_grant("refresh_token") {
        proxy.refresh_grants.fetch_add(1, Ordering::SeqCst);
    }
    if request.is_grant("authorization_code") {
        proxy.code_grants.fetch_add(1, Ordering::SeqCst);
    }
    if request.is_api() {
        proxy.api_requests.fetch_add(1, Ordering::SeqCst);
    }
    proxy.requests.lock().unwrap().push(request_line.clone());
    let rule = proxy.rule.lock().unwrap().clone();
    let action = rule.map_or(Action::Forward, |rule| rule(&request));
    let mut gate = None;
    let rewrite = match action {
        Action::Forward => None,
        Action::Hold(held) => {
            gate = Some(held);
            None
        }
        Action::Rewrite(rewrite) => Some(rewrite),
        Action::Respond(bytes) => {
            let _ = client.write_all(&bytes).await;
            let _ = client.shutdown().await;
            return;
        }
        Action::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Action::Cut => return,
    };
    // The upstream sees its own address as Host, as if asked directly (the
    // broker answers only its own Host).
    let mut lines: Vec<String> = head
        .lines()
        .filter(|line| {
            let line = line.to_ascii_lowercase();
            !line.starts_with("connection:") && !line.starts_with("host:")
        })
        .map(str::to_string)
        .collect();
    lines.push(format!("Host: {upstream}"));
    lines.push("Connection: close".into());
    let mut forwarded = lines.join("\r\n").into_bytes();
    forwarded.extend_from_slice(b"\r\n\r\n");
    forwarded.extend_from_slice(&body);
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    if server.write_all(&forwarded).await.is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = server.read_to_end(&mut answer).await;
    if let Some(gate) = gate {
        gate.held.notify_one();
        gate.release.notified().await;
    }
    let bytes = match rewrite {
        None => answer,
        Some(rewrite) => {
            let end = answer
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap_or(answer.len());
            let head = String::from_utf8_lossy(&answer[..end]).to_string();
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|code| code.parse().ok())
                .unwrap_or(0);
            let body = answer.get(end + 4..).unwrap_or_default().to_vec();
            rewrite(Response { status, head, body })
        }
    };
    let _ = client.write_all(&bytes).await;
    let _ = client.shutdown().await;
}

/// A complete HTTP/1.1 answer.
pub fn http_response(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

pub fn json_response(status: u16, body: &Value) -> Vec<u8> {
    http_response(status, "application/json", body.to_string().as_bytes())
}
