//! The app and its broker against an OpenID provider that is not Scalekit:
//! panva's `oidc-provider` (certified, the version `bench/oidc-provider`
//! pins), close to its defaults: opaque access tokens, no Scalekit API.
//! Sign-in works; the passkeys and sessions panels and the broker's
//! `/readyz` name the configuration problem and the setting to change; and
//! nothing sends the person round a sign-in loop (the session stays, the
//! browser opens once).
//!
//! Needs Node.js and `npm --prefix bench/oidc-provider ci` (scripts/test
//! does both, then runs these tests by their ignore reason).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{invoke, kind, mock_app, MemoryStore};
use passkeys_core::{Accounts, BrowserLauncher, ClientOptions, Config};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

const APP_CLIENT_ID: &str = "desktop-app";
const BROKER_CLIENT_ID: &str = "passkeys-broker";
const BROKER_CLIENT_SECRET: &str = "a-secret-for-this-test-only";
/// The login typed on the provider's development login page (its subject).
const LOGIN: &str = "ada@example.com";

/// `bench/oidc-provider/other-provider.mjs` running on a free port.
struct OtherProvider {
    issuer: Url,
    /// Its stdin is our pipe: it stops when the test drops it.
    _child: Child,
}

impl OtherProvider {
    async fn start() -> OtherProvider {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/oidc-provider");
        assert!(
            folder.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed: run `npm --prefix bench/oidc-provider ci`"
        );
        let mut child = Command::new("node")
            .arg(folder.join("other-provider.mjs"))
            .env("PORT", "0")
            .env("APP_CLIENT_ID", APP_CLIENT_ID)
            .env("BROKER_CLIENT_ID", BROKER_CLIENT_ID)
            .env("BROKER_CLIENT_SECRET", BROKER_CLIENT_SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (Node.js is installed)");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("oidc-provider starts in time")
            .unwrap()
            .expect("oidc-provider prints its issuer");
        // It writes more later (its own notices): a closed pipe would end it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let started: Value = serde_json::from_str(&line).unwrap();
        OtherProvider {
            issuer: Url::parse(started["issuer"].as_str().unwrap()).unwrap(),
            _child: child,
        }
    }
}

/// The person's browser at `oidc-provider`: its development login page
/// (any login) and its consent page, then the app's loopback redirect.
struct ProviderBrowser {
    opened: Mutex<Vec<Url>>,
}

impl BrowserLauncher for ProviderBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        self.opened.lock().unwrap().push(url.clone());
        let url = url.clone();
        tauri::async_runtime::spawn(async move {
            // Follows redirects, as a browser does, to the loopback at last.
            let http = reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap();
            let login_page = http.get(url).send().await.unwrap();
            assert!(login_page.status().is_success(), "{}", login_page.status());
            let consent_page = http
                .post(login_page.url().clone())
                .form(&[("prompt", "login"), ("login", LOGIN), ("password", "any")])
                .send()
                .await
                .unwrap();
            assert!(consent_page.status().is_success());
            let landed = http
                .post(consent_page.url().clone())
                .form(&[("prompt", "consent")])
                .send()
                .await
                .unwrap();
            assert_eq!(landed.url().host_str(), Some("127.0.0.1"));
            assert!(landed.status().is_success(), "{}", landed.status());
        });
        Ok(())
    }
}

/// The broker configured for that provider, as its administrator would.
async fn start_broker(provider: &OtherProvider) -> passkeys_broker::RunningBroker {
    let mut config = passkeys_broker::Config::new(
        provider.issuer.clone(),
        APP_CLIENT_ID,
        BROKER_CLIENT_ID,
        passkeys_broker::ClientSecret::new(BROKER_CLIENT_SECRET),
    );
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    passkeys_broker::start(config).await.unwrap()
}

#[test]
#[ignore = "needs Node.js and oidc-provider (npm --prefix bench/oidc-provider ci): run through scripts/test"]
fn against_oidc_provider_sign_in_works_and_the_panels_name_the_configuration_problem() {
    // Given the app configured for an OpenID provider that is not Scalekit,
    // with a broker in front of it
    let provider = tauri::async_runtime::block_on(OtherProvider::start());
    let broker = tauri::async_runtime::block_on(start_broker(&provider));
    let browser = Arc::new(ProviderBrowser {
        opened: Mutex::default(),
    });
    let mut config = Config::new(provider.issuer.clone(), APP_CLIENT_ID);
    config.set_api_url(broker.base_url().clone());
    config.sign_in_timeout = Duration::from_secs(60);
    let accounts = tauri::async_runtime::block_on(Accounts::open(
        vec![("default".into(), config)],
        Arc::new(MemoryStore::default()),
        browser.clone(),
        ClientOptions::default(),
        None,
    ))
    .unwrap();
    let (_app, window) = mock_app(accounts);

    // When the person signs in
    let account = invoke(&window, "sign_in", json!({})).expect("sign-in works");

    // Then they are signed in, as the provider's user
    assert_eq!(account["email"], LOGIN, "{account}");
    let signed_in = json!({"state": "signedIn"});
    let session = invoke(&window, "session", json!({})).unwrap();
    assert_eq!(session["state"], signed_in["state"], "{session}");

    // When the passkeys panel and the sessions panel load
    for command in ["list_passkeys", "list_sessions"] {
        let error = invoke(&window, command, json!({})).unwrap_err();
        // Then each is a configuration error naming the settings, not a
        // lost session
        assert_eq!(kind(&error), "config", "{command}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("environment_url"), "{command}: {message}");
        assert!(message.contains("api_url"), "{command}: {message}");
        assert!(message.contains("/readyz"), "{command}: {message}");
        assert!(
            message.contains("signing in again will not help"),
            "{command}: {message}"
        );
    }

    // And no sign-in loop: still signed in, the browser opened once
    let session = invoke(&window, "session", json!({})).unwrap();
    assert_eq!(session["state"], signed_in["state"], "{session}");
    assert_eq!(browser.opened.lock().unwrap().len(), 1);

    // And the broker's /readyz names the problem and the setting
    let readiness = tauri::async_runtime::block_on(async {
        let response = reqwest::get(broker.base_url().join("readyz").unwrap())
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    });
    let (status, ready) = readiness;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(
        ready["error_code"],
        scalekit_wire::status::UNSUPPORTED_ENVIRONMENT,
        "{ready}"
    );
    assert!(
        ready["problem"].as_str().unwrap().contains("sessions API"),
        "{ready}"
    );
    assert!(
        ready["fix"].as_str().unwrap().contains("upstream_api_url"),
        "{ready}"
    );

    tauri::async_runtime::block_on(broker.shutdown());
}
