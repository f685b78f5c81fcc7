//! Command tests: every Tauri command through the IPC layer of a mock app
//! (`tauri::test`, no window), against the emulator on an ephemeral port, with
//! the JSON the UI receives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use passkeys_core::{BrowserLauncher, Client, Config, SecretStore};
use passkeys_desktop_lib::bootstrap::{EnvironmentInfo, Ready};
use passkeys_desktop_lib::commands;
use passkeys_desktop_lib::state::AppState;
use scalekit_emulator::RunningEmulator;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{Listener, WebviewWindow};
use url::Url;

const EMAIL: &str = "ada@example.com";

/// The keychain for these tests: a map in memory (the real Secret Service is
/// tested in `passkeys-core`'s vault tests).
#[derive(Default)]
struct MemoryStore(Mutex<std::collections::HashMap<String, String>>);

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
struct LockedStore;

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
enum Behaviour {
    /// Signs in on the emulator's pages with an email code and follows the callback.
    SignsIn,
    /// Opens nothing and never comes back (a person who walked away).
    Stalls,
}

/// The browser seam: records every URL; signs in when asked to.
struct FakeBrowser {
    behaviour: Behaviour,
    base_url: Url,
    opened: Mutex<Vec<Url>>,
}

impl FakeBrowser {
    fn opened(&self) -> Vec<Url> {
        self.opened.lock().unwrap().clone()
    }
}

impl BrowserLauncher for FakeBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        self.opened.lock().unwrap().push(url.clone());
        if self.behaviour == Behaviour::SignsIn && url.path() == "/oauth/authorize" {
            let (url, base_url) = (url.clone(), self.base_url.clone());
            tauri::async_runtime::spawn(async move {
                let http = reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                let callback = scalekit_emulator::testing::sign_in_with_email_code(
                    &http, &url, EMAIL, &base_url,
                )
                .await
                .unwrap();
                // The loopback listener answers the browser with a small page.
                http.get(callback).send().await.unwrap();
            });
        }
        Ok(())
    }
}

struct Harness {
    _app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
    browser: Arc<FakeBrowser>,
    events: Arc<Mutex<Vec<(String, Value)>>>,
    emulator: RunningEmulator,
}

impl Harness {
    fn new(behaviour: Behaviour) -> Harness {
        Harness::with_store(behaviour, Arc::new(MemoryStore::default()))
    }

    fn with_store(behaviour: Behaviour, store: Arc<dyn SecretStore>) -> Harness {
        let emulator = tauri::async_runtime::block_on(scalekit_emulator::start(
            scalekit_emulator::Config::for_tests(),
        ))
        .unwrap();
        let base_url = emulator.base_url().clone();
        let browser = Arc::new(FakeBrowser {
            behaviour,
            base_url: base_url.clone(),
            opened: Mutex::default(),
        });
        let mut config = Config::new(base_url, "ntvc_demo");
        config.sign_in_timeout = Duration::from_secs(60);
        let environment = EnvironmentInfo::new(&config, false);
        let client =
            tauri::async_runtime::block_on(Client::new(config, store, browser.clone())).unwrap();
        let app = mock_builder()
            .manage(AppState::with_ready(Ready::new(client, environment)))
            .invoke_handler(commands::handler())
            .build(mock_context(noop_assets()))
            .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        for name in ["sign-in-progress", "session-changed", "notice"] {
            let events = events.clone();
            app.listen_any(name, move |event| {
                let payload = serde_json::from_str(event.payload()).unwrap();
                events.lock().unwrap().push((name.to_string(), payload));
            });
        }
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Harness {
            _app: app,
            webview,
            browser,
            events,
            emulator,
        }
    }

    /// Invokes a command as the UI does; Ok(result) or Err({kind, message}).
    fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        invoke(&self.webview, command, args)
    }

    fn events(&self, name: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(event, _)| event == name)
            .map(|(_, payload)| payload.clone())
            .collect()
    }

    fn sign_in(&self) -> Value {
        self.invoke("sign_in", json!({})).unwrap()
    }
}

fn invoke(
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
fn seed_passkeys(emulator: &RunningEmulator, user_id: &str, count: usize) -> Vec<String> {
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

fn kind(error: &Value) -> &str {
    error["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("not a UiError: {error}"))
}

#[test]
fn session_is_signed_out_at_first() {
    let harness = Harness::new(Behaviour::SignsIn);
    assert_eq!(
        harness.invoke("session", json!({})).unwrap(),
        json!({"state": "signedOut"})
    );
}

#[test]
fn passkey_commands_need_a_sign_in() {
    // Given no session
    let harness = Harness::new(Behaviour::SignsIn);
    // When the UI asks for passkeys, renames, removes or adds one
    for (command, args) in [
        ("list_passkeys", json!({})),
        ("rename_passkey", json!({"id": "wac_1", "name": "Laptop"})),
        ("remove_passkey", json!({"id": "wac_1"})),
    ] {
        let error = harness.invoke(command, args).unwrap_err();
        // Then it gets {kind: signInRequired, message} and can show "Sign in"
        assert_eq!(kind(&error), "signInRequired", "{command}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains("Sign in"),
            "{command}: {error}"
        );
    }
    assert!(harness.browser.opened().is_empty(), "nothing was opened");
}

#[test]
fn a_name_of_121_characters_is_invalid_input() {
    let harness = Harness::new(Behaviour::SignsIn);
    harness.sign_in();
    let error = harness
        .invoke(
            "rename_passkey",
            json!({"id": "wac_1", "name": "a".repeat(121)}),
        )
        .unwrap_err();
    assert_eq!(kind(&error), "invalidInput", "{error}");
    assert_eq!(
        error.as_object().unwrap().len(),
        2,
        "exactly kind and message: {error}"
    );
    let error = harness
        .invoke("rename_passkey", json!({"id": "wac_1", "name": "   "}))
        .unwrap_err();
    assert_eq!(kind(&error), "invalidInput", "{error}");
}

#[test]
fn sign_in_through_the_browser_then_session_and_environment() {
    // Given a browser that signs in with an email code
    let harness = Harness::new(Behaviour::SignsIn);
    // When the UI signs in
    let account = harness.sign_in();
    // Then the account comes back, the session says so, and the UI was told
    assert_eq!(account["email"], EMAIL);
    assert_eq!(
        account["environment"]
            .as_str()
            .unwrap()
            .trim_end_matches('/'),
        harness.emulator.base_url().as_str().trim_end_matches('/')
    );
    let session = harness.invoke("session", json!({})).unwrap();
    assert_eq!(session["state"], "signedIn");
    assert_eq!(session["account"], account);
    let progress = harness.events("sign-in-progress");
    assert_eq!(progress.len(), 2, "{progress:?}");
    assert_eq!(progress[0]["stage"], "waitingForBrowser");
    assert_eq!(progress[0]["browserOpened"], true);
    assert_eq!(progress[1], json!({"stage": "completingSignIn"}));
    let authorize_url = Url::parse(progress[0]["authorizeUrl"].as_str().unwrap()).unwrap();
    assert_eq!(authorize_url, harness.browser.opened()[0]);
    assert_eq!(authorize_url.path(), "/oauth/authorize");
    assert_eq!(
        harness.events("session-changed").last().unwrap()["state"],
        "signedIn"
    );

    let environment = harness.invoke("environment", json!({})).unwrap();
    assert_eq!(environment["redirect"], "loopback");
    assert_eq!(environment["embeddedEmulator"], false);
    assert!(environment["url"]
        .as_str()
        .unwrap()
        .starts_with("http://localhost:"));
}

#[test]
fn list_rename_and_remove_passkeys() {
    let harness = Harness::new(Behaviour::SignsIn);
    let account = harness.sign_in();
    let subject = account["subject"].as_str().unwrap();
    let ids = seed_passkeys(&harness.emulator, subject, 2);

    let list = harness.invoke("list_passkeys", json!({})).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for passkey in list {
        for field in [
            "id",
            "displayName",
            "createdAt",
            "authenticator",
            "synced",
            "deviceBound",
            "transports",
            "registeredFrom",
        ] {
            assert!(passkey.get(field).is_some(), "{field} missing in {passkey}");
        }
    }

    let id = ids[0].as_str();
    let renamed = harness
        .invoke(
            "rename_passkey",
            json!({"id": id, "name": "  Work laptop  "}),
        )
        .unwrap();
    assert_eq!(renamed["id"], id);
    assert_eq!(renamed["displayName"], "Work laptop");
    let list = harness.invoke("list_passkeys", json!({})).unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == id && p["displayName"] == "Work laptop"));

    assert_eq!(
        harness.invoke("remove_passkey", json!({"id": id})).unwrap(),
        Value::Null
    );
    let list = harness.invoke("list_passkeys", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list.as_array().unwrap().iter().all(|p| p["id"] != id));

    let error = harness
        .invoke("remove_passkey", json!({"id": id}))
        .unwrap_err();
    assert_eq!(kind(&error), "notFound", "{error}");
}

#[test]
fn add_passkey_opens_the_profile_page() {
    let harness = Harness::new(Behaviour::SignsIn);
    harness.sign_in();
    assert_eq!(
        harness.invoke("add_passkey", json!({})).unwrap(),
        Value::Null
    );
    let opened = harness.browser.opened();
    let page = opened.last().unwrap();
    assert_eq!(
        page.as_str(),
        harness
            .emulator
            .base_url()
            .join("ui/profile/passkeys")
            .unwrap()
            .as_str()
    );
}

#[test]
fn cancel_sign_in_stops_the_waiting_sign_in() {
    // Given a sign-in waiting for a browser that never comes back
    let harness = Harness::new(Behaviour::Stalls);
    let waiting = {
        let webview = harness.webview.clone();
        std::thread::spawn(move || invoke(&webview, "sign_in", json!({})))
    };
    while harness.events("sign-in-progress").is_empty() {
        std::thread::sleep(Duration::from_millis(10));
    }
    // When the UI cancels
    assert_eq!(
        harness.invoke("cancel_sign_in", json!({})).unwrap(),
        Value::Null
    );
    // Then the sign-in call ends with `cancelled` and the session stays signed out
    let error = waiting.join().unwrap().unwrap_err();
    assert_eq!(kind(&error), "cancelled", "{error}");
    assert_eq!(
        harness.invoke("session", json!({})).unwrap(),
        json!({"state": "signedOut"})
    );
}

#[test]
fn sign_out_forgets_the_session() {
    let harness = Harness::new(Behaviour::SignsIn);
    harness.sign_in();
    assert_eq!(harness.invoke("sign_out", json!({})).unwrap(), Value::Null);
    assert_eq!(
        harness.invoke("session", json!({})).unwrap(),
        json!({"state": "signedOut"})
    );
    assert_eq!(
        harness.events("session-changed").last().unwrap(),
        &json!({"state": "signedOut"})
    );
    assert!(harness
        .browser
        .opened()
        .iter()
        .any(|url| url.path() == "/oidc/logout"));
    let error = harness.invoke("list_passkeys", json!({})).unwrap_err();
    assert_eq!(kind(&error), "signInRequired", "{error}");
}

#[test]
fn a_locked_keychain_is_a_keychain_error() {
    let harness = Harness::with_store(Behaviour::SignsIn, Arc::new(LockedStore));
    let error = harness.invoke("session", json!({})).unwrap_err();
    assert_eq!(kind(&error), "keychain", "{error}");
}

#[test]
fn app_ready_answers_and_unknown_commands_are_refused() {
    let harness = Harness::new(Behaviour::SignsIn);
    assert_eq!(harness.invoke("app_ready", json!({})).unwrap(), Value::Null);
    assert_eq!(
        harness.invoke("app_ready", json!({})).unwrap(),
        Value::Null,
        "a second call is harmless"
    );
    assert!(harness.invoke("no_such_command", json!({})).is_err());
}

#[test]
fn every_listed_command_is_handled() {
    let harness = Harness::new(Behaviour::Stalls);
    for command in commands::COMMANDS
        .iter()
        .filter(|command| **command != "sign_in")
    {
        if let Err(error) = harness.invoke(command, json!({"id": "x", "name": "y"})) {
            let text = error.to_string();
            assert!(
                !text.contains("not found"),
                "{command} is not handled: {text}"
            );
        }
    }
}
