//! The harness of the app's tests: a mock Tauri app (`tauri::test`, no
//! window) with the real commands and state, around a client core that signs
//! in at the emulator on an ephemeral port through a fake browser and
//! manages passkeys through a passkeys broker in front of it, as in
//! production.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use passkeys_broker::RunningBroker;
use passkeys_core::{Accounts, BrowserLauncher, ClientOptions, Config, RedirectMode, SecretStore};
use passkeys_desktop_lib::state::AppState;
use passkeys_desktop_lib::{commands, flows};
use passkeys_headless::core_start::Ready;
use scalekit_emulator::RunningEmulator;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{AppHandle, Listener, Manager, WebviewWindow};
use url::Url;

pub const EMAIL: &str = "ada@example.com";

/// The keychain for these tests: a map in memory (the real Secret Service is
/// tested in `passkeys-core`'s vault tests).
#[derive(Default)]
pub struct MemoryStore(Mutex<std::collections::HashMap<String, String>>);

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> passkeys_core::Result<Option<String>> {
        Ok(self.0.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, secret: &str) -> passkeys_core::Result<()> {
        self.0.lock().unwrap().insert(account.into(), secret.into());
        Ok(())
    }
    fn delete(&self, account: &str) -> passkeys_core::Result<()> {
        self.0.lock().unwrap().remove(account);
        Ok(())
    }
}

/// A keychain that is locked.
pub struct LockedStore;

impl SecretStore for LockedStore {
    fn get(&self, _account: &str) -> passkeys_core::Result<Option<String>> {
        Err(passkeys_core::Error::Keychain(
            "The keychain is locked.".into(),
        ))
    }
    fn set(&self, _account: &str, _secret: &str) -> passkeys_core::Result<()> {
        Err(passkeys_core::Error::Keychain(
            "The keychain is locked.".into(),
        ))
    }
    fn delete(&self, _account: &str) -> passkeys_core::Result<()> {
        Err(passkeys_core::Error::Keychain(
            "The keychain is locked.".into(),
        ))
    }
}

/// What the fake browser does with an authorize URL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Signs in on the emulator's pages with an email code and follows the callback.
    SignsIn,
    /// Opens nothing and never comes back (a person who walked away).
    Stalls,
    /// Signs in, then hands the callback to the app as the OS hands it a deep
    /// link (the redirect URI is `dev.passkeys.desktop:/callback`).
    SignsInByDeepLink,
}

/// The browser seam: records every URL; signs in when asked to.
pub struct FakeBrowser {
    behaviour: Behaviour,
    mailbox: scalekit_emulator::DevMailbox,
    opened: Mutex<Vec<Url>>,
    app: OnceLock<AppHandle<MockRuntime>>,
}

impl FakeBrowser {
    /// Every URL opened so far.
    pub fn opened(&self) -> Vec<Url> {
        self.opened.lock().unwrap().clone()
    }
}

impl BrowserLauncher for FakeBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        self.opened.lock().unwrap().push(url.clone());
        if self.behaviour != Behaviour::Stalls && url.path() == "/oauth/authorize" {
            let (url, mailbox) = (url.clone(), self.mailbox.clone());
            let deep_link = self.behaviour == Behaviour::SignsInByDeepLink;
            let app = self.app.get().cloned();
            tauri::async_runtime::spawn(async move {
                let http = reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                let callback = scalekit_emulator::testing::sign_in_with_email_code(
                    &http, &url, EMAIL, &mailbox,
                )
                .await
                .unwrap();
                if deep_link {
                    // What the OS does with a private-use scheme: the app gets the URL.
                    flows::handle_deep_link(app.unwrap(), callback.to_string()).await;
                } else {
                    // The loopback listener answers the browser with a small page.
                    http.get(callback).send().await.unwrap();
                }
            });
        }
        Ok(())
    }
}

pub struct Harness {
    pub app: tauri::App<MockRuntime>,
    pub webview: WebviewWindow<MockRuntime>,
    pub browser: Arc<FakeBrowser>,
    events: Arc<Mutex<Vec<(String, Value)>>>,
    pub broker: RunningBroker,
    pub emulator: RunningEmulator,
}

impl Harness {
    /// A mock app, signed out, with an empty keychain.
    pub fn new(behaviour: Behaviour) -> Harness {
        Harness::with_store(behaviour, Arc::new(MemoryStore::default()))
    }

    /// A mock app with the given keychain.
    pub fn with_store(behaviour: Behaviour, store: Arc<dyn SecretStore>) -> Harness {
        Harness::build(behaviour, store, true)
    }

    /// A mock app configured with no passkeys broker (a real environment
    /// whose organisation runs none).
    pub fn without_broker(behaviour: Behaviour) -> Harness {
        Harness::build(behaviour, Arc::new(MemoryStore::default()), false)
    }

    fn build(behaviour: Behaviour, store: Arc<dyn SecretStore>, with_broker: bool) -> Harness {
        let emulator = tauri::async_runtime::block_on(scalekit_emulator::start(
            scalekit_emulator::Config::for_tests(),
        ))
        .unwrap();
        let base_url = emulator.base_url().clone();
        let broker = tauri::async_runtime::block_on(start_broker(&emulator));
        let browser = Arc::new(FakeBrowser {
            behaviour,
            mailbox: emulator.dev_mailbox(),
            opened: Mutex::default(),
            app: OnceLock::new(),
        });
        let mut config = Config::new(base_url, "ntvc_demo");
        if with_broker {
            config.set_api_url(broker.base_url().clone());
        }
        config.sign_in_timeout = Duration::from_secs(60);
        if behaviour == Behaviour::SignsInByDeepLink {
            config.redirect = RedirectMode::DeepLink {
                redirect_uri: Url::parse(passkeys_core::DEFAULT_DEEP_LINK_REDIRECT_URI).unwrap(),
            };
        }
        let accounts = tauri::async_runtime::block_on(Accounts::open(
            vec![("default".into(), config)],
            store,
            browser.clone(),
            ClientOptions::default(),
            None,
        ))
        .unwrap();
        let (app, webview) = mock_app(accounts);
        let events = Arc::new(Mutex::new(Vec::new()));
        for name in [
            "sign-in-progress",
            "session-changed",
            "notice",
            "sign-in-link",
        ] {
            let events = events.clone();
            app.listen_any(name, move |event| {
                let payload = serde_json::from_str(event.payload()).unwrap();
                events.lock().unwrap().push((name.to_string(), payload));
            });
        }
        let _ = browser.app.set(app.handle().clone());
        Harness {
            app,
            webview,
            browser,
            events,
            broker,
            emulator,
        }
    }

    /// Invokes a command as the UI does; Ok(result) or Err({kind, message}).
    pub fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        invoke(&self.webview, command, args)
    }

    /// The payloads of the events named `name` emitted so far.
    pub fn events(&self, name: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(event, _)| event == name)
            .map(|(_, payload)| payload.clone())
            .collect()
    }

    /// Signs in through the `sign_in` command.
    pub fn sign_in(&self) -> Value {
        self.invoke("sign_in", json!({})).unwrap()
    }
}

/// A passkeys broker in front of `emulator` (its confidential demo client),
/// on an ephemeral port.
/// The app without a window system: the real commands and state around
/// `accounts`, and its main webview, through which the tests invoke.
pub fn mock_app(accounts: Accounts) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = mock_builder()
        .manage(AppState::with_ready(Ready::new(accounts)))
        .invoke_handler(commands::handler())
        .build(mock_context(noop_assets()))
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, webview)
}

pub async fn start_broker(emulator: &RunningEmulator) -> RunningBroker {
    let mut config = passkeys_broker::Config::new(
        emulator.base_url().clone(),
        "ntvc_demo",
        "skc_demo",
        passkeys_broker::ClientSecret::new(scalekit_emulator::config::TEST_CLIENT_SECRET),
    );
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    passkeys_broker::start(config).await.unwrap()
}

pub fn invoke(
    webview: &WebviewWindow<MockRuntime>,
    command: &str,
    args: Value,
) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: command.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        // Linux's webview origin; Windows would use http://tauri.localhost.
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(webview, request).map(|body| body.deserialize::<Value>().unwrap())
}

/// Stores `count` passkeys for `user_id` straight in the emulator's database
/// (registration itself needs a browser with an authenticator: the end-to-end suite).
pub fn seed_passkeys(emulator: &RunningEmulator, user_id: &str, count: usize) -> Vec<String> {
    let db = emulator.state().db.clone();
    let user_id = user_id.to_string();
    tauri::async_runtime::block_on(db.call(move |conn| {
        (0..count)
            .map(|n| {
                let new = scalekit_emulator::db::NewPasskey {
                    user_id: user_id.clone(),
                    credential_id: format!("Y3JlZGVudGlhbC0{n}"),
                    passkey_json: "{}".into(),
                    attestation_type: Some("none".into()),
                    aaguid: Some("fbfc3007-154e-4ecc-8c0b-6e020557d7bd".into()),
                    attachment: Some("platform".into()),
                    transports: vec!["internal".into(), "hybrid".into()],
                    user_present: true,
                    user_verified: true,
                    backup_eligible: true,
                    backup_state: n == 0,
                    display_name: Some(format!("Key {n}")),
                    user_agent: json!({"browser": "Chrome", "os": "macOS"}),
                    client_info: json!({"city": "Berlin"}),
                };
                scalekit_emulator::db::insert_passkey(conn, new).map(|stored| stored.id)
            })
            .collect()
    }))
    .unwrap()
}

pub fn kind(error: &Value) -> &str {
    error["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("not a UiError: {error}"))
}

/// Hands a URL to the app as the deep-link plugin does, and waits for it to be handled.
pub fn open_deep_link(harness: &Harness, url: &str) {
    tauri::async_runtime::block_on(flows::handle_deep_link(
        harness.app.handle().clone(),
        url.to_string(),
    ));
}

/// Waits until `done` holds (events arrive on other threads).
pub fn wait_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..3000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("gave up waiting for {what}");
}

/// The `AppState` of the harness's app.
pub fn state(harness: &Harness) -> tauri::State<'_, AppState> {
    harness.app.state::<AppState>()
}
