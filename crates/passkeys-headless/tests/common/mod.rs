//! Two environments, each an emulator with its own passkeys broker, each
//! behind recording proxies; a browser seam that signs in on whichever
//! environment a sign-in link names, as that environment's person; an
//! in-memory keychain.
#![allow(dead_code)]

pub mod proxy;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use passkeys_broker::RunningBroker;
use passkeys_core::{Accounts, BrowserLauncher, ClientOptions, Config, SecretStore, TokenVault};
use passkeys_headless::cli::{execute, Command, Output};
use scalekit_emulator::{DevMailbox, RunningEmulator};
use serde_json::Value;
use url::Url;

use proxy::Recorder;

pub const CLIENT_ID: &str = "ntvc_demo";
const BROKER_CLIENT_ID: &str = "skc_demo";

/// One environment: its emulator and broker, both reached through proxies.
pub struct Environment {
    pub name: &'static str,
    /// Who signs in there.
    pub email: &'static str,
    pub emulator: RunningEmulator,
    pub broker: RunningBroker,
    /// The issuer: the proxy in front of the emulator.
    pub url: Url,
    /// The proxy in front of the broker.
    pub broker_url: Url,
    pub environment_seen: Arc<Recorder>,
    pub broker_seen: Arc<Recorder>,
}

impl Environment {
    pub async fn start(name: &'static str, email: &'static str) -> Environment {
        let upstream = free_port();
        let (url, environment_seen) = proxy::start(upstream).await;
        let mut config = scalekit_emulator::Config::for_tests();
        config.listen = upstream;
        config.public_url = Some(url.clone());
        let emulator = scalekit_emulator::start(config).await.unwrap();
        let broker = start_broker(&url, upstream).await;
        let (broker_url, broker_seen) = proxy::start(broker.local_addr()).await;
        Environment {
            name,
            email,
            emulator,
            broker,
            url,
            broker_url,
            environment_seen,
            broker_seen,
        }
    }

    pub fn config(&self) -> Config {
        let mut config =
            Config::new(self.url.clone(), CLIENT_ID).with_api_url(self.broker_url.clone());
        config.sign_in_timeout = Duration::from_secs(60);
        config
    }

    /// Stores passkeys named `names` for `subject`, as registrations would.
    pub async fn seed_passkeys(&self, subject: &str, names: &[&str]) {
        for (n, name) in names.iter().enumerate() {
            let passkey = scalekit_emulator::testing::synced_platform_passkey(
                subject,
                &format!("{}-credential-{n}", self.name),
                "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
                name,
            );
            scalekit_emulator::testing::store_passkey(&self.emulator, passkey)
                .await
                .unwrap();
        }
    }

    /// Every token this environment issued (its token endpoint's answers).
    pub fn issued_tokens(&self) -> Vec<String> {
        let mut tokens = Vec::new();
        for exchange in self.environment_seen.exchanges() {
            if !exchange.target().starts_with("/oauth/token") {
                continue;
            }
            let answer = String::from_utf8_lossy(&exchange.answer).to_string();
            let Some((_, body)) = answer.split_once("\r\n\r\n") else {
                continue;
            };
            let Ok(json) = serde_json::from_str::<Value>(body) else {
                continue;
            };
            for field in ["access_token", "refresh_token", "id_token"] {
                if let Some(token) = json[field].as_str() {
                    tokens.push(token.to_owned());
                }
            }
        }
        tokens
    }

    /// Every request this environment and its broker received, as text.
    pub fn requests_received(&self) -> Vec<String> {
        let environment = self.environment_seen.exchanges().into_iter();
        let broker = self.broker_seen.exchanges().into_iter();
        environment
            .chain(broker)
            .map(|e| e.request_text())
            .collect()
    }
}

/// The broker for the environment whose issuer is `url`; its own calls go
/// straight to the emulator at `upstream`, past the proxy.
async fn start_broker(url: &Url, upstream: SocketAddr) -> RunningBroker {
    let direct = Url::parse(&format!("http://{upstream}/")).unwrap();
    let mut config = passkeys_broker::Config::new(
        url.clone(),
        CLIENT_ID,
        BROKER_CLIENT_ID,
        passkeys_broker::ClientSecret::new(scalekit_emulator::config::TEST_CLIENT_SECRET),
    );
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.upstream_api_url = Some(direct.clone());
    config.token_url = Some(direct.join("oauth/token").unwrap());
    config.jwks_url = Some(direct.join("keys").unwrap());
    config.introspection_url = Some(direct.join("oauth/introspect").unwrap());
    passkeys_broker::start(config).await.unwrap()
}

fn free_port() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

/// A keychain in memory, which remembers the entries written.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, String>>,
    written: Mutex<Vec<String>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> passkeys_core::Result<Option<String>> {
        Ok(self.entries.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, secret: &str) -> passkeys_core::Result<()> {
        self.written.lock().unwrap().push(account.into());
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
    /// The accounts with a session here, sorted: the entries' names less
    /// the chunks a session is split into on Windows (`<account>#1`, …,
    /// beside the account's own entry).
    pub fn accounts(&self) -> Vec<String> {
        let mut accounts: Vec<String> = self
            .entries
            .lock()
            .unwrap()
            .keys()
            .filter(|name| !name.contains('#'))
            .cloned()
            .collect();
        accounts.sort();
        accounts
    }

    /// The entries written since the last call, in order.
    pub fn take_written(&self) -> Vec<String> {
        std::mem::take(&mut *self.written.lock().unwrap())
    }
}

/// The refresh token of the session kept for the account whose name starts
/// with `prefix`, read as the app reads it (whole, or from its chunks).
pub async fn stored_refresh_token(store: &Arc<MemoryStore>, prefix: &str) -> String {
    let account = store
        .accounts()
        .into_iter()
        .find(|account| account.starts_with(prefix))
        .expect("a keychain entry");
    let vault = TokenVault::new(Arc::clone(store) as Arc<dyn SecretStore>, account);
    let session = vault.load().await.unwrap().expect("a stored session");
    session
        .refresh_token
        .expect("a refresh token")
        .secret()
        .to_owned()
}

/// Signs in on the environment a sign-in link names, as its person (by
/// email code), and comes back to the app's loopback.
pub struct Browser {
    /// Environment origin → email, and the environment's dev mailbox.
    people: HashMap<String, (&'static str, DevMailbox)>,
    pub failures: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    pub fn new(environments: &[&Environment]) -> Arc<Browser> {
        let people = environments
            .iter()
            .map(|environment| {
                (
                    environment.url.origin().ascii_serialization(),
                    (environment.email, environment.emulator.dev_mailbox()),
                )
            })
            .collect();
        Arc::new(Browser {
            people,
            failures: Arc::default(),
        })
    }
}

impl BrowserLauncher for Browser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        if url.path() != "/oauth/authorize" {
            return Ok(());
        }
        let origin = url.origin().ascii_serialization();
        let Some((email, mailbox)) = self.people.get(&origin).cloned() else {
            self.failures
                .lock()
                .unwrap()
                .push(format!("unknown environment {origin}"));
            return Ok(());
        };
        let (url, failures) = (url.clone(), Arc::clone(&self.failures));
        tokio::spawn(async move {
            let http = scalekit_emulator::testing::browser_client().unwrap();
            let result =
                scalekit_emulator::testing::sign_in_with_email_code(&http, &url, email, &mailbox)
                    .await;
            match result {
                Ok(callback) => {
                    if let Err(error) = reqwest::get(callback).await {
                        failures.lock().unwrap().push(error.to_string());
                    }
                }
                Err(error) => failures.lock().unwrap().push(error.to_string()),
            }
        });
        Ok(())
    }
}

/// The accounts of these environments, their tokens in `store`.
pub async fn accounts(environments: &[&Environment], store: Arc<MemoryStore>) -> Accounts {
    accounts_in(environments, store, None).await
}

/// [`accounts`], with the accounts file at `file`.
pub async fn accounts_in(
    environments: &[&Environment],
    store: Arc<MemoryStore>,
    file: Option<std::path::PathBuf>,
) -> Accounts {
    accounts_with(environments, store, file, ClientOptions::default()).await
}

/// [`accounts`], their clients reading the time from `clock`.
pub async fn accounts_on_clock(
    environments: &[&Environment],
    store: Arc<MemoryStore>,
    clock: Arc<passkeys_core::ManualClock>,
) -> Accounts {
    let options = ClientOptions {
        clock,
        ..ClientOptions::default()
    };
    accounts_with(environments, store, None, options).await
}

async fn accounts_with(
    environments: &[&Environment],
    store: Arc<MemoryStore>,
    file: Option<std::path::PathBuf>,
    options: ClientOptions,
) -> Accounts {
    let named = environments
        .iter()
        .map(|environment| (environment.name.to_owned(), environment.config()))
        .collect();
    let browser = Browser::new(environments);
    Accounts::open(named, store, browser, options, file)
        .await
        .unwrap()
}

/// Runs a command line as `passkeys-desktop --json [--account ACCOUNT] …`
/// does; its JSON result, or its `{kind, message}`.
pub async fn run(
    accounts: &Accounts,
    account: Option<&str>,
    command: Command,
) -> Result<Value, Value> {
    let output = Output::captured(true);
    match execute(command, account, accounts, &output).await {
        Ok(()) => Ok(serde_json::from_str(&output.printed()).unwrap()),
        Err(error) => Err(serde_json::to_value(error).unwrap()),
    }
}
