//! What the measurements run against: the emulator and a passkeys broker in
//! front of it in this process (the production topology: passkeys calls go
//! through the broker), a user with passkeys and a browser session, and a
//! "browser" that hands the authorization URL to the benchmark instead of
//! opening it.

use std::sync::Arc;

use passkeys_core::{BrowserLauncher, Client, Config, KeyringStore, RedirectMode};
use scalekit_emulator::db::{self, NewPasskey};
use scalekit_emulator::RunningEmulator;
use serde_json::json;
use tokio::sync::mpsc;
use url::Url;

use crate::BenchResult;

/// The emulator's native demo client.
pub const CLIENT_ID: &str = "ntvc_demo";

/// Authenticators the seeded passkeys claim to come from (AAGUID, attachment).
const AUTHENTICATORS: [(&str, &str); 4] = [
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "platform"),
    ("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", "platform"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "platform"),
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "cross-platform"),
];

/// The emulator, the broker and a signed-up user.
pub struct World {
    /// The emulator, in this process.
    pub emulator: RunningEmulator,
    /// The passkeys broker in front of it, in this process.
    pub broker: passkeys_broker::RunningBroker,
    /// A client that follows no redirects (the benchmark's "browser").
    pub http: reqwest::Client,
    /// The user's `Cookie` header for the hosted login (already signed in there).
    pub cookie: String,
}

impl World {
    /// Starts the emulator and signs `email` up with `passkeys` passkeys.
    ///
    /// # Errors
    /// When the emulator does not start or the database refuses.
    pub async fn start(email: &str, passkeys: usize) -> BenchResult<World> {
        let emulator = scalekit_emulator::start(scalekit_emulator::Config::for_tests()).await?;
        let state = emulator.state();
        let email = email.to_owned();
        let user = state
            .db
            .call(move |c| db::find_or_create_user_by_email(c, &email))
            .await?;
        for index in 0..passkeys {
            let new = seeded_passkey(&user.id, index);
            state.db.call(move |c| db::insert_passkey(c, new)).await?;
        }
        let (_, cookie) = state.create_browser_session(&user.id, "conn_email").await?;
        let mut broker_config = passkeys_broker::Config::new(
            emulator.base_url().clone(),
            CLIENT_ID,
            "skc_demo",
            passkeys_broker::ClientSecret::new(scalekit_emulator::config::TEST_CLIENT_SECRET),
        );
        broker_config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        // One person makes every call of the benchmark.
        broker_config.rate_limit = passkeys_broker::RateLimit {
            requests_per_minute: 1_000_000,
            burst: 100_000,
        };
        let broker = passkeys_broker::start(broker_config).await?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(World {
            cookie: format!("{}={}", cookie.name(), cookie.value()),
            broker,
            emulator,
            http,
        })
    }

    /// The app's configuration for this emulator.
    pub fn config(&self, redirect: RedirectMode, keychain_service: &str) -> Config {
        let mut config = Config::new(self.emulator.base_url().clone(), CLIENT_ID);
        config.set_api_url(self.broker.base_url().clone());
        config.redirect = redirect;
        config.keychain_service = keychain_service.to_owned();
        config
    }

    /// A client core on the real keychain, with a browser that hands the
    /// authorization URLs to the returned receiver.
    ///
    /// # Errors
    /// When the client cannot be built.
    pub async fn client(
        &self,
        redirect: RedirectMode,
        keychain_service: &str,
    ) -> BenchResult<(Client, mpsc::UnboundedReceiver<Url>)> {
        let config = self.config(redirect, keychain_service);
        let store = Arc::new(KeyringStore::new(&config.keychain_service));
        let (sender, receiver) = mpsc::unbounded_channel();
        let client = Client::new(config, store, Arc::new(HandOver(sender))).await?;
        Ok((client, receiver))
    }

    /// Goes through the hosted login (already signed in there) and returns the
    /// app's callback URL with the code and state.
    ///
    /// # Errors
    /// When the emulator does not redirect.
    pub async fn authorize(&self, authorize_url: &Url) -> BenchResult<String> {
        let base = authorize_url.join("/")?;
        let callback = scalekit_emulator::testing::authorize_signed_in(
            &self.http,
            authorize_url,
            &base,
            Some(&self.cookie),
        )
        .await?;
        Ok(callback.to_string())
    }
}

/// Hands the URL to open to the benchmark.
struct HandOver(mpsc::UnboundedSender<Url>);

impl BrowserLauncher for HandOver {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        self.0
            .send(url.clone())
            .map_err(|_| passkeys_core::Error::Internal("the benchmark stopped listening".into()))
    }
}

fn seeded_passkey(user_id: &str, index: usize) -> NewPasskey {
    let (aaguid, attachment) = AUTHENTICATORS[index % AUTHENTICATORS.len()];
    let synced = attachment == "platform";
    NewPasskey {
        user_id: user_id.to_owned(),
        credential_id: format!("YmVuY2gta2V5LXtpbmRleH0t{index:04}"),
        passkey_json: "{}".into(),
        attestation_type: Some("none".into()),
        aaguid: Some(aaguid.into()),
        attachment: Some(attachment.into()),
        transports: vec!["internal".into(), "hybrid".into()],
        user_present: true,
        user_verified: true,
        backup_eligible: synced,
        backup_state: synced,
        display_name: Some(format!("Passkey {}", index + 1)),
        user_agent: json!({
            "raw": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "browser": "Chrome", "browser_version": "131.0.0.0",
            "os": "Linux", "os_version": "", "device_type": "desktop", "device_model": ""
        }),
        client_info: json!({"ip": "127.0.0.1", "region": "DE", "region_subdivision": "BE", "city": "Berlin"}),
    }
}
