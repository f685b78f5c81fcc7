//! Shared pieces of the integration, attack and fault tests: the emulator
//! and the passkeys broker behind a counting, tampering proxy (it can forge,
//! delay, cut or replace any answer), a browser seam that signs in on the emulator's pages, an
//! in-memory secret store (the vault itself is tested against a real Secret
//! Service in `keychain.rs` and the `fault_keychain` tests), and JWT forging
//! helpers.
// Each test binary uses its own subset of these helpers and re-exports.
#![allow(dead_code, unused_imports)]

mod browser;
mod jwt;
mod pending;
mod proxy;
mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use passkeys_core::{Client, ClientOptions, Config, ManualClock, RedirectMode};
use url::Url;

pub use browser::{login, Delivery, LoginBrowser};
pub use jwt::{at_hash, b64, claims_of, hmac_sha256, hs256_jwt, now, unsigned_jwt};
pub use pending::Pending;
pub use proxy::{
    http_response, json_response, Action, Env, Gate, Proxy, Request, Response, Rule,
    BROKER_CLIENT_ID,
};
pub use store::{stored_session, MemoryStore};

pub const EMAIL: &str = "ada@example.com";
pub const CLIENT_ID: &str = "ntvc_demo";
pub const DEEP_LINK: &str = "dev.passkeys.desktop:/callback";

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

/// A fresh client on a loopback config with an empty store, default options
/// and a browser that delivers the way `delivery` says.
pub async fn loopback_client(
    env: &Env,
    delivery: Delivery,
) -> (Client, Config, Arc<MemoryStore>, Arc<LoginBrowser>) {
    let config = env.config(RedirectMode::Loopback { port: 0 });
    let store = Arc::new(MemoryStore::default());
    let browser = LoginBrowser::new(env, delivery);
    let client = client(
        config.clone(),
        Arc::clone(&store),
        Arc::clone(&browser),
        ClientOptions::default(),
    )
    .await;
    (client, config, store, browser)
}

/// Signs in through the loopback; returns the client, its config, store and browser.
pub async fn signed_in(env: &Env) -> (Client, Config, Arc<MemoryStore>, Arc<LoginBrowser>) {
    let (client, config, store, browser) = loopback_client(env, Delivery::Loopback).await;
    client.sign_in(|_| {}).await.unwrap_or_else(|error| {
        panic!(
            "sign-in failed: {error}; browser: {:?}",
            browser.failures.lock().unwrap()
        )
    });
    (client, config, store, browser)
}

/// A fake clock standing at the system's time, so that the tokens the
/// emulator issues are fresh by it; the test moves it.
pub fn fake_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::starting_now())
}

/// Options that refresh only once the access token has expired, by `clock`.
pub fn refresh_at_expiry(clock: &Arc<ManualClock>) -> ClientOptions {
    ClientOptions {
        refresh_skew: Duration::ZERO,
        clock: Arc::clone(clock) as _,
        ..ClientOptions::default()
    }
}

/// Moves `clock` to one second past the expiry of the access token stored
/// for `config` (the emulator's tokens stay valid: its ID tokens live an
/// hour, its access tokens five minutes).
pub async fn past_expiry(store: &Arc<MemoryStore>, config: &Config, clock: &ManualClock) {
    let session = store.session(config).await.expect("a stored session");
    clock.set(session.expires_at + time::Duration::seconds(1));
}

/// The deep-link redirect mode with the app's registered callback.
pub fn deep_link() -> RedirectMode {
    RedirectMode::DeepLink {
        redirect_uri: Url::parse(DEEP_LINK).unwrap(),
    }
}

/// The query parameters of a URL.
pub fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}
