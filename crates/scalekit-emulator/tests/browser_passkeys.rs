//! End to end in Debian's Chromium (headless, through chromedriver) with a
//! WebAuthn virtual authenticator: sign up by email code → add a passkey on
//! `/ui/profile/passkeys` → sign out → "Continue with Passkey" → code → tokens
//! → the credentials API (with the environment client's token) lists the
//! passkey → rename → remove.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (override with
//! `CHROMIUM_BIN` / `CHROMEDRIVER_BIN`). Screenshots of each step go to
//! `target/browser-screenshots/`.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use std::path::PathBuf;

use axum::routing::get;
use browser_support::Browser;
use reqwest::StatusCode;
use scalekit_emulator::testing::{self, CodeFlow};
use scalekit_emulator::Config;
use serde_json::{json, Value};
use url::Url;

const CLIENT: &str = "ntvc_demo";
const EMAIL: &str = "chromium.user@example.com";

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("browser-screenshots")
}

/// A stand-in for the app's loopback callback: a page that says "Signed in".
async fn callback_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/callback",
        get(|| async { "Signed in. You can close this window." }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}/callback")
}

/// The test's code flow as the app runs it, on `redirect`.
fn flow(base: &Url, redirect: &str, state: &str, verifier: &str) -> CodeFlow {
    CodeFlow::new(base)
        .with_client(CLIENT, redirect)
        .with_state(state)
        .with_verifier(verifier)
}

/// A client-credentials token of the demo confidential client.
async fn client_token(http: &reqwest::Client, base: &Url) -> String {
    let response = http
        .post(base.join("/oauth/token").unwrap())
        .basic_auth(
            "skc_demo",
            Some(scalekit_emulator::config::TEST_CLIENT_SECRET),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// The credentials API's listing at `url` for the bearer of `access`.
async fn list_credentials(http: &reqwest::Client, url: &Url, access: &str) -> Value {
    http.get(url.clone())
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Waits until the virtual authenticator holds `count` passkeys; returns them.
async fn wait_until_held(browser: &Browser, authenticator: &str, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        let held = browser.authenticator_credentials(authenticator).await;
        if held.len() == count {
            return held;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the authenticator holds {:?}, not {count}",
        browser.authenticator_credentials(authenticator).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_lifecycle_in_chromium() {
    let emulator = scalekit_emulator::start(Config::for_tests()).await.unwrap();
    let base = emulator.base_url().clone();
    assert_eq!(
        base.host_str(),
        Some("localhost"),
        "WebAuthn needs a host name, not an IP"
    );
    let profile = base.join("/ui/profile/passkeys").unwrap();
    let redirect = callback_server().await;
    let http = reqwest::Client::new();
    let mut browser = Browser::start(&screenshot_dir()).await;
    let authenticator = browser.add_virtual_authenticator().await;

    // Sign up by email code.
    let verifier = "browser-test-verifier-one-0123456789abcdefghijklmnop";
    let first = flow(&base, &redirect, "first", verifier).with_param("prompt", "create");
    browser.goto(first.authorize_url().unwrap().as_str()).await;
    browser.find("#email").await;
    browser.screenshot("signup-page").await;
    browser.type_into("#email", EMAIL).await;
    browser.click("#email-submit").await;
    browser.find("#code").await;
    let code = testing::latest_code(&http, &emulator.dev_mailbox(), EMAIL)
        .await
        .unwrap()
        .expect("a code in the mailbox");
    browser.screenshot("code-page").await;
    browser.type_into("#code", &code).await;
    browser.click("#code-submit").await;
    let callback = browser
        .wait_for_url("the app's callback", |u| u.starts_with(&redirect))
        .await;
    first.code_from(&Url::parse(&callback).unwrap()).unwrap();

    // Add a passkey on the profile page.
    browser.goto(profile.as_str()).await;
    browser.find("#add-passkey").await;
    browser.wait_for_text("No passkeys yet").await;
    browser.screenshot("profile-empty").await;
    browser.click("#add-passkey").await;
    browser.find("li[data-passkey-id]").await;
    browser.wait_for_text("Chrome on Linux").await;
    browser.screenshot("profile-with-passkey").await;
    let held = browser.authenticator_credentials(&authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["isResidentCredential"], true);

    // Sign out, then sign in again: the email field offers the passkey
    // (conditional UI), and the virtual authenticator picks it at once.
    browser.click("#sign-out").await;
    browser.wait_for_text("You are signed out").await;
    browser.screenshot("signed-out").await;
    let verifier = "browser-test-verifier-autofill-0123456789abcdefghijk";
    let autofill = flow(&base, &redirect, "autofill", verifier);
    browser
        .goto(autofill.authorize_url().unwrap().as_str())
        .await;
    let callback = browser
        .wait_for_url("the callback after passkey autofill", |u| {
            u.starts_with(&redirect)
        })
        .await;
    let code = autofill.code_from(&Url::parse(&callback).unwrap()).unwrap();
    let tokens = autofill.exchange(&http, &code).await.unwrap();
    assert_eq!(
        claims(tokens.id_token.as_deref().unwrap())["amr"],
        json!(["conn_passkey"])
    );

    // Sign out, and sign in with the "Continue with Passkey" button. So that
    // autofill cannot answer first, the authenticator is emptied while the
    // page loads and the passkey put back before the click.
    let profile = base.join("/ui/profile/passkeys").unwrap();
    browser.goto(profile.as_str()).await;
    browser.click("#sign-out").await;
    browser.wait_for_text("You are signed out").await;
    let held = browser.authenticator_credentials(&authenticator).await;
    browser
        .remove_authenticator_credentials(&authenticator)
        .await;
    let verifier = "browser-test-verifier-two-0123456789abcdefghijklmnop";
    let second = flow(&base, &redirect, "second", verifier);
    browser.goto(second.authorize_url().unwrap().as_str()).await;
    browser.find("#passkey-button").await;
    browser.screenshot("login-page").await;
    browser
        .add_authenticator_credential(&authenticator, &held[0])
        .await;
    browser.click("#passkey-button").await;
    let callback = browser
        .wait_for_url("the app's callback", |u| u.starts_with(&redirect))
        .await;
    let code = second.code_from(&Url::parse(&callback).unwrap()).unwrap();

    // The stored signature counter followed the two passkey sign-ins.
    let stored = emulator
        .state()
        .db
        .call(|c| {
            let user = scalekit_emulator::db::user_by_email(c, EMAIL)?.expect("user");
            scalekit_emulator::db::passkeys_for_user(c, &user.id)
        })
        .await
        .unwrap();
    let passkey: Value = serde_json::from_str(&stored[0].passkey_json).unwrap();
    let counter = passkey["cred"]["counter"].as_u64().unwrap();
    let authenticator_count = browser.authenticator_credentials(&authenticator).await[0]
        ["signCount"]
        .as_u64()
        .unwrap();
    assert!(counter >= 2, "{passkey}");
    assert_eq!(counter, authenticator_count);

    // Tokens.
    let tokens = second.exchange(&http, &code).await.unwrap();
    let id_token = claims(tokens.id_token.as_deref().unwrap());
    assert_eq!(id_token["email"], EMAIL);
    assert_eq!(id_token["amr"], json!(["conn_passkey"]));
    let user_access = tokens.access_token;

    // The credentials API takes the environment client's token, not the
    // user's, and lists the passkey with its fields filled.
    let mut credentials_url = base.join("/api/v1/webauthn/credentials").unwrap();
    credentials_url
        .query_pairs_mut()
        .append_pair("user_id", id_token["sub"].as_str().unwrap());
    let refused = http
        .get(credentials_url.clone())
        .bearer_auth(&user_access)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let access = client_token(&http, &base).await;
    let listed = list_credentials(&http, &credentials_url, &access).await;
    let credentials = listed["credentials"].as_array().expect("credentials");
    assert_eq!(credentials.len(), 1, "{listed}");
    let credential = &credentials[0];
    let id = credential["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wac_"));
    assert_eq!(credential["user_id"], id_token["sub"]);
    assert!(!credential["credential_id"].as_str().unwrap().is_empty());
    // Chromium's virtual authenticator has a test AAGUID the list does not
    // know: the name falls back to "Passkey" for a platform authenticator.
    assert_eq!(
        credential["authenticator"]["aaguid"],
        "01020304-0506-0708-0102-030405060708"
    );
    assert_eq!(credential["authenticator"]["name"], "Passkey");
    assert_eq!(credential["attestation_type"], "none");
    assert_eq!(credential["display_name"], "Passkey");
    assert_eq!(credential["authenticator"]["attachment"], "platform");
    assert_eq!(credential["transports"], json!(["internal"]));
    assert_eq!(credential["authenticator_flags"]["user_present"], true);
    assert_eq!(credential["authenticator_flags"]["user_verified"], true);
    let browser_name = credential["user_agent"]["browser"].as_str().unwrap();
    assert!(
        browser_name == "Chrome" || browser_name == "Chromium",
        "{browser_name}"
    );
    assert_eq!(credential["user_agent"]["os"], "Linux");
    assert!(
        credential["client_info"]["ip"]
            .as_str()
            .unwrap()
            .contains('.')
            || credential["client_info"]["ip"] == "::1"
    );
    let created = credential["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");

    // Rename, then remove.
    let item = base
        .join(&format!("/api/v1/webauthn/credentials/{id}"))
        .unwrap();
    let renamed: Value = http
        .patch(item.clone())
        .bearer_auth(&access)
        .json(&json!({"display_name": "Chromium test key"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["credential"]["display_name"], "Chromium test key");

    // The page shows the new name, and renames too.
    browser.goto(profile.as_str()).await;
    browser.wait_for_text("Chromium test key").await;
    browser.click(&format!("[data-rename='{id}']")).await;
    let input = format!("#rename-{id} input");
    browser.clear(&input).await;
    browser.type_into(&input, "Renamed on the page").await;
    browser.click(&format!("#rename-{id} button")).await;
    browser.wait_for_text("Renamed on the page").await;
    browser.screenshot("profile-renamed").await;
    let listed = list_credentials(&http, &credentials_url, &access).await;
    assert_eq!(
        listed["credentials"][0]["display_name"],
        "Renamed on the page"
    );

    // Removed on the page, the passkey leaves the authenticator too: the
    // page tells the browser with WebAuthn's signalUnknownCredential (the
    // removal's unknown_credential_options), and says so.
    let before = wait_until_held(&browser, &authenticator, 1).await;
    browser.execute("window.confirm = () => true;").await;
    browser.click(&format!("[data-remove='{id}']")).await;
    browser
        .wait_for_text("Your browser was told it no longer works here")
        .await;
    browser.wait_for_text("No passkeys yet").await;
    browser.screenshot("profile-removed-signalled").await;
    wait_until_held(&browser, &authenticator, 0).await;
    let listed = list_credentials(&http, &credentials_url, &access).await;
    assert_eq!(
        listed["credentials"].as_array().map_or(0, Vec::len),
        0,
        "{listed}"
    );

    // A passkey the environment no longer has (removed elsewhere, the
    // browser not told) leaves the authenticator when the page next loads:
    // it tells the browser which passkeys still work
    // (signalAllAcceptedCredentials, from the list's
    // all_accepted_credentials_options): none.
    browser
        .add_authenticator_credential(&authenticator, &before[0])
        .await;
    wait_until_held(&browser, &authenticator, 1).await;
    browser.goto(profile.as_str()).await;
    browser.wait_for_text("No passkeys yet").await;
    wait_until_held(&browser, &authenticator, 0).await;

    drop(browser);
    emulator.shutdown().await;
}
