//! Shared pieces of the integration tests: the emulator behind a counting
//! reverse proxy, a browser seam that logs in on the emulator's pages, and
//! an in-memory secret store (the vault itself is tested against a real
//! Secret Service in `keychain.rs`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use passkeys_core::{
    BrowserLauncher, Client, ClientOptions, Config, RedirectMode, SecretStore, StoredSession,
    TokenVault,
};
use scalekit_emulator::RunningEmulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use url::Url;

pub const EMAIL: &str = "ada@example.com";
pub const CLIENT_ID: &str = "ntvc_demo";

/// Counts what passes through the proxy.
#[derive(Default, Debug)]
pub struct Counters {
    pub refresh_grants: AtomicUsize,
    pub code_grants: AtomicUsize,
    pub api_requests: AtomicUsize,
}

/// The emulator, reachable only through a counting proxy at `base_url`.
pub struct Harness {
    pub emulator: RunningEmulator,
    pub base_url: Url,
    pub counters: Arc<Counters>,
}

impl Harness {
    pub async fn start() -> Harness {
        // The proxy's port must be known before the emulator starts: it is the issuer.
        let proxy_v4 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = proxy_v4.local_addr().unwrap().port();
        let proxy_v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await.ok();
        let base_url = Url::parse(&format!("http://localhost:{port}")).unwrap();

        // The emulator listens on a free port of its own behind the proxy.
        let upstream = free_port();
        let mut config = scalekit_emulator::Config::for_tests();
        config.listen = upstream;
        config.public_url = Some(base_url.clone());
        let emulator = scalekit_emulator::start(config).await.unwrap();

        let counters = Arc::new(Counters::default());
        for listener in std::iter::once(proxy_v4).chain(proxy_v6) {
            tokio::spawn(serve_proxy(listener, upstream, Arc::clone(&counters)));
        }
        Harness {
            base_url: emulator.base_url().clone(),
            emulator,
            counters,
        }
    }

    pub fn config(&self, redirect: RedirectMode) -> Config {
        let mut config = Config::new(self.base_url.clone(), CLIENT_ID);
        config.redirect = redirect;
        config.sign_in_timeout = Duration::from_secs(60);
        config
    }

    pub fn refresh_grants(&self) -> usize {
        self.counters.refresh_grants.load(Ordering::SeqCst)
    }

    pub fn api_requests(&self) -> usize {
        self.counters.api_requests.load(Ordering::SeqCst)
    }

    /// A token-endpoint request the way any client would send it.
    pub async fn refresh_grant(&self, refresh_token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.base_url.join("/oauth/token").unwrap())
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .unwrap()
    }
}

/// A port the OS just handed out (and took back) for the emulator.
fn free_port() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

async fn serve_proxy(listener: TcpListener, upstream: SocketAddr, counters: Arc<Counters>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(proxy_one(stream, upstream, Arc::clone(&counters)));
    }
}

/// Forwards one request per connection (`Connection: close` both ways) and counts it.
async fn proxy_one(mut client: TcpStream, upstream: SocketAddr, counters: Arc<Counters>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let Ok(read) = client.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buffer.len() < head_end + 4 + length {
        let Ok(read) = client.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = buffer[head_end + 4..].to_vec();
    let request_line = head.lines().next().unwrap_or_default().to_string();
    if request_line.starts_with("POST /oauth/token ") {
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        match form.get("grant_type").map(String::as_str) {
            Some("refresh_token") => counters.refresh_grants.fetch_add(1, Ordering::SeqCst),
            Some("authorization_code") => counters.code_grants.fetch_add(1, Ordering::SeqCst),
            _ => 0,
        };
    }
    if request_line.contains(" /api/v1/webauthn/credentials") {
        counters.api_requests.fetch_add(1, Ordering::SeqCst);
    }
    let mut rewritten: Vec<String> = head
        .lines()
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .map(str::to_string)
        .collect();
    rewritten.push("Connection: close".into());
    let mut forwarded = rewritten.join("\r\n").into_bytes();
    forwarded.extend_from_slice(b"\r\n\r\n");
    forwarded.extend_from_slice(&body);

    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    if server.write_all(&forwarded).await.is_err() {
        return;
    }
    let _ = tokio::io::copy(&mut server, &mut client).await;
    let _ = client.shutdown().await;
}

/// An in-memory [`SecretStore`] for the client tests.
#[derive(Default)]
pub struct MemoryStore {
    pub entries: Mutex<HashMap<String, String>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> passkeys_core::Result<Option<String>> {
        Ok(self.entries.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, secret: &str) -> passkeys_core::Result<()> {
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
    fn vault(self: &Arc<Self>, config: &Config) -> TokenVault {
        TokenVault::for_config(config, Arc::clone(self) as Arc<dyn SecretStore>)
    }

    /// The stored session, read through the vault (it may be chunked).
    pub async fn session(self: &Arc<Self>, config: &Config) -> Option<StoredSession> {
        self.vault(config).load().await.unwrap()
    }

    pub async fn edit_session(
        self: &Arc<Self>,
        config: &Config,
        edit: impl FnOnce(&mut StoredSession),
    ) {
        let vault = self.vault(config);
        let mut session = vault.load().await.unwrap().expect("a stored session");
        edit(&mut session);
        vault.save(&session).await.unwrap();
    }
}

/// What the fake browser does with an authorize URL.
#[derive(Clone)]
pub enum Delivery {
    /// Logs in, then requests the loopback callback like a browser would.
    Loopback,
    /// Logs in, then hands the callback URL to the test (the OS's deep-link delivery).
    DeepLink(mpsc::UnboundedSender<Url>),
    /// Only records the URL.
    Nothing,
}

/// The browser seam: logs in on the emulator's hosted pages over HTTP.
pub struct EmulatorBrowser {
    base_url: Url,
    delivery: Delivery,
    pub opened: Mutex<Vec<Url>>,
    pub loopback_pages: Arc<Mutex<Vec<String>>>,
    pub failures: Arc<Mutex<Vec<String>>>,
}

impl EmulatorBrowser {
    pub fn new(harness: &Harness, delivery: Delivery) -> Arc<EmulatorBrowser> {
        Arc::new(EmulatorBrowser {
            base_url: harness.base_url.clone(),
            delivery,
            opened: Mutex::new(Vec::new()),
            loopback_pages: Arc::default(),
            failures: Arc::default(),
        })
    }

    pub fn opened(&self) -> Vec<Url> {
        self.opened.lock().unwrap().clone()
    }
}

impl BrowserLauncher for EmulatorBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        self.opened.lock().unwrap().push(url.clone());
        if url.path() != "/oauth/authorize" {
            return Ok(());
        }
        let (url, base, delivery) = (url.clone(), self.base_url.clone(), self.delivery.clone());
        let (pages, failures) = (Arc::clone(&self.loopback_pages), Arc::clone(&self.failures));
        tokio::spawn(async move {
            if let Delivery::Nothing = delivery {
                return;
            }
            let http = scalekit_emulator::testing::browser_client().unwrap();
            let callback = match scalekit_emulator::testing::sign_in_with_email_code(
                &http, &url, EMAIL, &base,
            )
            .await
            {
                Ok(callback) => callback,
                Err(error) => {
                    failures.lock().unwrap().push(error.to_string());
                    return;
                }
            };
            match delivery {
                Delivery::Loopback => match reqwest::get(callback).await {
                    Ok(response) => {
                        let page = response.text().await.unwrap();
                        pages.lock().unwrap().push(page);
                    }
                    Err(error) => failures.lock().unwrap().push(error.to_string()),
                },
                Delivery::DeepLink(sender) => {
                    let _ = sender.send(callback);
                }
                Delivery::Nothing => {}
            }
        });
        Ok(())
    }
}

pub async fn client(
    config: Config,
    store: Arc<MemoryStore>,
    browser: Arc<EmulatorBrowser>,
    options: ClientOptions,
) -> Client {
    Client::with_options(config, store, browser, options)
        .await
        .unwrap()
}

/// Signs in through the loopback and returns the client, its store and browser.
pub async fn signed_in(
    harness: &Harness,
) -> (Client, Config, Arc<MemoryStore>, Arc<EmulatorBrowser>) {
    let config = harness.config(RedirectMode::Loopback { port: 0 });
    let store = Arc::new(MemoryStore::default());
    let browser = EmulatorBrowser::new(harness, Delivery::Loopback);
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
