//! The app's own client core, unchanged, pointed at the broker by its
//! API URL setting alone: sign in through the hosted login, then list,
//! rename and remove.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use passkeys_core::{BrowserLauncher, Client, ErrorKind, RedirectMode, SecretStore};
use url::Url;

const EMAIL: &str = "ada@example.com";

/// An in-memory keychain.
#[derive(Default)]
struct MemoryStore(Mutex<HashMap<String, String>>);

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

/// The system browser: signs in on the hosted pages with an email code and
/// follows the redirect to the app's loopback callback.
struct HostedLoginBrowser {
    mailbox: scalekit_emulator::DevMailbox,
}

impl BrowserLauncher for HostedLoginBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        if url.path() != "/oauth/authorize" {
            return Ok(());
        }
        let (authorize, mailbox) = (url.clone(), self.mailbox.clone());
        tokio::spawn(async move {
            let http = scalekit_emulator::testing::browser_client().unwrap();
            let callback = scalekit_emulator::testing::sign_in_with_email_code(
                &http, &authorize, EMAIL, &mailbox,
            )
            .await
            .unwrap();
            reqwest::get(callback).await.unwrap();
        });
        Ok(())
    }
}

/// The app's client for `emulator`'s environment, with `broker` as its
/// passkeys API.
async fn app_client(
    emulator: &scalekit_emulator::RunningEmulator,
    broker: &passkeys_broker::RunningBroker,
) -> Client {
    let mut config = passkeys_core::Config::new(emulator.base_url().clone(), APP_CLIENT_ID);
    config.redirect = RedirectMode::Loopback { port: 0 };
    config.sign_in_timeout = Duration::from_secs(60);
    config.set_api_url(broker.base_url().clone());
    let browser = Arc::new(HostedLoginBrowser {
        mailbox: emulator.dev_mailbox(),
    });
    Client::new(config, Arc::new(MemoryStore::default()), browser)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_apps_client_works_through_the_broker_by_configuration_alone() {
    // Given the environment, a broker for it, and the app configured with
    // the broker as its passkeys API
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let client = app_client(&emulator, &broker).await;

    // When the user signs in the usual way
    let account = client.sign_in(|_| {}).await.unwrap();
    let laptop = add_passkey(&emulator, &account.subject, "Laptop").await;
    let phone = add_passkey(&emulator, &account.subject, "Phone").await;
    let bob = create_user(&emulator, "bob@example.com").await;
    let bobs_key = add_passkey(&emulator, &bob, "Bob's key").await;

    // Then the app lists, renames and removes their passkeys via the broker
    let mut names: Vec<String> = client
        .list_passkeys()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.display_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Laptop", "Phone"]);

    let renamed = client
        .rename_passkey(&laptop.id, "Work laptop")
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Work laptop");

    client.remove_passkey(&phone.id).await.unwrap();
    let remaining: Vec<String> = stored_passkeys(&emulator, &account.subject)
        .await
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(remaining, [laptop.id.as_str()]);

    // And someone else's passkey reads as not found, and stays as it was
    let error = client.remove_passkey(&bobs_key.id).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(stored_passkeys(&emulator, &bob).await, vec![bobs_key]);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_broker_paired_with_the_wrong_environment_is_a_setting_to_change_not_a_sign_in() {
    // Given a broker whose environment has no Scalekit sessions API, and the
    // app signed in
    let emulator = start_emulator().await;
    let api = StubApi::without_any_route().await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(api.base_url.clone());
    let broker = start_broker(config).await;
    let client = app_client(&emulator, &broker).await;
    client.sign_in(|_| {}).await.unwrap();

    // When the app lists the passkeys, twice
    for _ in 0..2 {
        let error = client.list_passkeys().await.unwrap_err();

        // Then it is a configuration error naming the setting, and the
        // person stays signed in: signing in again would not help
        assert_eq!(error.kind(), ErrorKind::Config, "{error:?}");
        assert!(error.to_string().contains("environment_url"), "{error}");
    }

    broker.shutdown().await;
    emulator.shutdown().await;
}
