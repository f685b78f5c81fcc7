//! Shared pieces of the attack and fault tests: the emulator behind a
//! tampering proxy (it can forge, delay, cut or replace any answer), a
//! browser seam that signs in on the emulator's pages, an in-memory secret
//! store, and JWT forging helpers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use passkeys_core::{
    Account, BrowserLauncher, Client, ClientOptions, Config, RedirectMode, SecretStore,
    SessionState, StoredSession, TokenVault,
};
use scalekit_emulator::RunningEmulator;
use serde_json::Value;
use sha2::Digest as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use url::Url;

pub const EMAIL: &str = "ada@example.com";
pub const CLIENT_ID: &str = "ntvc_demo";
pub const DEEP_LINK: &str = "dev.passkeys.desktop:/callback";

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path with query.
    pub target: String,
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

/// The emulator, reachable only through the tampering proxy at `base_url`.
pub struct Env {
    pub emulator: RunningEmulator,
    pub base_url: Url,
    pub proxy: Arc<Proxy>,
}

impl Env {
    pub async fn start() -> Env {
        let proxy_v4 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = proxy_v4.local_addr().unwrap().port();
        let proxy_v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await.ok();
        let base_url = Url::parse(&format!("http://localhost:{port}")).unwrap();
        let upstream = free_port();
        let mut config = scalekit_emulator::Config::for_tests();
        config.listen = upstream;
        config.public_url = Some(base_url.clone());
        let emulator = scalekit_emulator::start(config).await.unwrap();
        let proxy = Arc::new(Proxy::default());
        for listener in std::iter::once(proxy_v4).chain(proxy_v6) {
            tokio::spawn(serve(listener, upstream, Arc::clone(&proxy)));
        }
        Env {
            base_url: emulator.base_url().clone(),
            emulator,
            proxy,
        }
    }

    pub fn config(&self, redirect: RedirectMode) -> Config {
        let mut config = Config::new(self.base_url.clone(), CLIENT_ID);
        config.redirect = redirect;
        config.sign_in_timeout = Duration::from_secs(60);
        config
    }

    pub fn deep_link_config(&self) -> Config {
        self.config(RedirectMode::DeepLink {
            redirect_uri: Url::parse(DEEP_LINK).unwrap(),
        })
    }

    pub fn set_rule(&self, rule: impl Fn(&Request) -> Action + Send + Sync + 'static) {
        *self.proxy.rule.lock().unwrap() = Some(Arc::new(rule));
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
    let rewrite = match action {
        Action::Forward => None,
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
    let mut lines: Vec<String> = head
        .lines()
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .map(str::to_string)
        .collect();
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

/// What the fake browser does with an authorize URL.
#[derive(Clone)]
pub enum Delivery {
    /// Signs in, then requests the loopback callback like a browser would.
    Loopback,
    /// Signs in, then hands the callback URL to the test.
    Hand(mpsc::UnboundedSender<Url>),
    /// Only records the URL.
    Nothing,
}

/// The browser seam: signs in on the emulator's hosted pages over HTTP.
pub struct LoginBrowser {
    base_url: Url,
    delivery: Delivery,
    pub opened: Mutex<Vec<Url>>,
    pub loopback_pages: Arc<Mutex<Vec<String>>>,
    pub failures: Arc<Mutex<Vec<String>>>,
}

impl LoginBrowser {
    pub fn new(env: &Env, delivery: Delivery) -> Arc<LoginBrowser> {
        LoginBrowser::for_base_url(&env.base_url, delivery)
    }

    pub fn for_base_url(base_url: &Url, delivery: Delivery) -> Arc<LoginBrowser> {
        Arc::new(LoginBrowser {
            base_url: base_url.clone(),
            delivery,
            opened: Mutex::new(Vec::new()),
            loopback_pages: Arc::default(),
            failures: Arc::default(),
        })
    }

    pub fn opened(&self) -> Vec<Url> {
        self.opened.lock().unwrap().clone()
    }

    /// The authorize URLs opened so far.
    pub fn authorize_urls(&self) -> Vec<Url> {
        self.opened()
            .into_iter()
            .filter(|url| url.path() == "/oauth/authorize")
            .collect()
    }
}

impl BrowserLauncher for LoginBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        self.opened.lock().unwrap().push(url.clone());
        if url.path() != "/oauth/authorize" {
            return Ok(());
        }
        if let Delivery::Nothing = self.delivery {
            return Ok(());
        }
        let (url, base, delivery) = (url.clone(), self.base_url.clone(), self.delivery.clone());
        let (pages, failures) = (Arc::clone(&self.loopback_pages), Arc::clone(&self.failures));
        tokio::spawn(async move {
            let callback = match login(&url, &base).await {
                Ok(callback) => callback,
                Err(error) => {
                    failures.lock().unwrap().push(error);
                    return;
                }
            };
            match delivery {
                Delivery::Loopback => match reqwest::get(callback).await {
                    Ok(response) => {
                        let page = response.text().await.unwrap_or_default();
                        pages.lock().unwrap().push(page);
                    }
                    Err(error) => failures.lock().unwrap().push(error.to_string()),
                },
                Delivery::Hand(sender) => {
                    let _ = sender.send(callback);
                }
                Delivery::Nothing => {}
            }
        });
        Ok(())
    }
}

/// Signs in on the hosted pages for `authorize_url`; returns the callback URL.
pub async fn login(authorize_url: &Url, base_url: &Url) -> Result<Url, String> {
    let http = scalekit_emulator::testing::browser_client().map_err(|e| e.to_string())?;
    scalekit_emulator::testing::sign_in_with_email_code(&http, authorize_url, EMAIL, base_url)
        .await
        .map_err(|e| e.to_string())
}

/// An in-memory [`SecretStore`] (the real keychain is used by the `fault_keychain` tests).
#[derive(Default)]
pub struct MemoryStore {
    pub entries: Mutex<HashMap<String, String>>,
    pub writes: AtomicUsize,
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> passkeys_core::Result<Option<String>> {
        Ok(self.entries.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, secret: &str) -> passkeys_core::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.entries
            .lock()
            .unwrap()
            .insert(account.into(), secret.into());
        Ok(())
    }
    fn delete(&self, account: &str) -> passkeys_core::Result<()> {
        self.entries.lock().unwrap().remove(account);
        Ok(())
    }
}

impl MemoryStore {
    pub fn snapshot(&self) -> HashMap<String, String> {
        self.entries.lock().unwrap().clone()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.lock().unwrap().is_empty()
    }

    pub async fn session(self: &Arc<Self>, config: &Config) -> Option<StoredSession> {
        TokenVault::for_config(config, Arc::clone(self) as Arc<dyn SecretStore>)
            .load()
            .await
            .unwrap()
    }

    pub async fn edit_session(
        self: &Arc<Self>,
        config: &Config,
        edit: impl FnOnce(&mut StoredSession),
    ) {
        let vault = TokenVault::for_config(config, Arc::clone(self) as Arc<dyn SecretStore>);
        let mut session = vault.load().await.unwrap().expect("a stored session");
        edit(&mut session);
        vault.save(&session).await.unwrap();
    }
}

pub async fn client(
    config: Config,
    store: Arc<MemoryStore>,
    browser: Arc<LoginBrowser>,
    options: ClientOptions,
) -> Client {
    Client::with_options(config, store, browser, options)
        .await
        .unwrap()
}

/// Signs in through the loopback; returns the client, its config, store and browser.
pub async fn signed_in(env: &Env) -> (Client, Config, Arc<MemoryStore>, Arc<LoginBrowser>) {
    let config = env.config(RedirectMode::Loopback { port: 0 });
    let store = Arc::new(MemoryStore::default());
    let browser = LoginBrowser::new(env, Delivery::Loopback);
    let client = client(
        config.clone(),
        Arc::clone(&store),
        Arc::clone(&browser),
        ClientOptions::default(),
    )
    .await;
    client.sign_in(|_| {}).await.unwrap_or_else(|error| {
        panic!(
            "sign-in failed: {error}; browser: {:?}",
            browser.failures.lock().unwrap()
        )
    });
    (client, config, store, browser)
}

/// The query parameters of a URL.
pub fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The (unverified) claims of a JWT.
pub fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A JWT with `alg: none` and no signature.
pub fn unsigned_jwt(claims: &Value) -> String {
    let header = serde_json::json!({"alg": "none", "typ": "JWT"});
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// A JWT with `alg: HS256` whose HMAC key is `key` (e.g. the provider's public key).
pub fn hs256_jwt(claims: &Value, kid: &str, key: &[u8]) -> String {
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    format!("{input}.{}", b64(&hmac_sha256(key, input.as_bytes())))
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let mut inner = sha2::Sha256::new();
    inner.update(pad(0x36));
    inner.update(message);
    let mut outer = sha2::Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// The `at_hash` of an RS256 access token (OIDC Core §3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    b64(&sha2::Sha256::digest(access_token.as_bytes())[..16])
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A sign-in waiting for its answer; the test plays the browser.
pub struct Pending {
    pub client: Client,
    pub store: Arc<MemoryStore>,
    pub browser: Arc<LoginBrowser>,
    pub task: JoinHandle<passkeys_core::Result<Account>>,
    pub authorize_url: Url,
}

impl Pending {
    pub async fn start(env: &Env, redirect: RedirectMode) -> Pending {
        let store = Arc::new(MemoryStore::default());
        let browser = LoginBrowser::new(env, Delivery::Nothing);
        let client = client(
            env.config(redirect),
            Arc::clone(&store),
            Arc::clone(&browser),
            ClientOptions::default(),
        )
        .await;
        Pending::again(client, store, browser).await
    }

    /// Starts another sign-in on the same client.
    pub async fn again(
        client: Client,
        store: Arc<MemoryStore>,
        browser: Arc<LoginBrowser>,
    ) -> Pending {
        let before = browser.authorize_urls().len();
        let task = tokio::spawn({
            let client = client.clone();
            async move { client.sign_in(|_| {}).await }
        });
        let authorize_url = loop {
            let urls = browser.authorize_urls();
            if urls.len() > before {
                break urls[before].clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        Pending {
            client,
            store,
            browser,
            task,
            authorize_url,
        }
    }

    pub fn state(&self) -> String {
        query(&self.authorize_url)["state"].clone()
    }

    pub fn redirect_uri(&self) -> String {
        query(&self.authorize_url)["redirect_uri"].clone()
    }

    /// The loopback URL with this query.
    pub fn loopback(&self, query: &str) -> String {
        format!("{}?{query}", self.redirect_uri())
    }

    /// Logs in on the emulator like the user would; returns the real callback URL.
    pub async fn real_callback(&self, env: &Env) -> Url {
        login(&self.authorize_url, &env.base_url).await.unwrap()
    }

    pub fn assert_still_pending(&self) {
        assert!(!self.task.is_finished(), "the sign-in ended early");
    }

    pub async fn assert_nothing_stored(&self) {
        assert!(self.store.is_empty());
        assert_eq!(
            self.client.session().await.unwrap(),
            SessionState::SignedOut
        );
    }

    /// Completes the sign-in through the loopback with the real answer.
    pub async fn complete_through_loopback(self, env: &Env) -> Account {
        let callback = self.real_callback(env).await;
        let page = reqwest::get(callback).await.unwrap().text().await.unwrap();
        assert!(page.contains("You are signed in"), "{page}");
        let account = self.task.await.unwrap().unwrap();
        assert!(!self.store.is_empty());
        account
    }
}
