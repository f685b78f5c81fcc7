//! The passkeys API against the emulator: list, rename, remove.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{signed_in, Env};
use passkeys_core::{ErrorKind, DISPLAY_NAME_MAX_CHARS};
use scalekit_emulator::db::NewPasskey;
use scalekit_emulator::testing;
use serde_json::json;

/// Registering needs a browser ceremony; the tests put rows in the emulator's store directly.
async fn add_passkey(harness: &Env, user_id: &str, new: NewPasskey) -> String {
    let new = NewPasskey {
        user_id: user_id.to_string(),
        passkey_json: "{}".into(),
        ..new
    };
    testing::store_passkey(&harness.emulator, new)
        .await
        .unwrap()
        .id
}

fn laptop() -> NewPasskey {
    NewPasskey {
        user_agent: json!({"browser": "Safari", "browser_version": "17.3", "os": "macOS", "os_version": "14.3", "device_type": "desktop"}),
        client_info: json!({"city": "San Francisco", "region": "California"}),
        ..testing::synced_platform_passkey(
            "",
            "q83vEjRWeJA=",
            "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
            "My MacBook",
        )
    }
}

fn security_key() -> NewPasskey {
    NewPasskey {
        credential_id: "AAECAw==".into(),
        attachment: Some("cross-platform".into()),
        transports: vec!["usb".into()],
        user_present: true,
        user_verified: true,
        display_name: Some("<b>Spare</b> key".into()),
        user_agent: json!({}),
        client_info: json!({}),
        ..NewPasskey::default()
    }
}

#[tokio::test]
async fn list_rename_and_remove() {
    // Given a signed-in user with two passkeys (and someone else with one)
    let harness = Env::start().await;
    let (client, config, store, _) = signed_in(&harness).await;
    let subject = store.session(&config).await.unwrap().account.subject;
    let laptop_id = add_passkey(&harness, &subject, laptop()).await;
    let key_id = add_passkey(&harness, &subject, security_key()).await;

    // When the passkeys are listed
    let passkeys = client.list_passkeys().await.unwrap();

    // Then both come back with the fields the UI shows
    assert_eq!(passkeys.len(), 2);
    let mac = passkeys.iter().find(|p| p.id == laptop_id).unwrap();
    assert_eq!(mac.display_name, "My MacBook");
    assert!(mac.synced);
    assert!(!mac.device_bound);
    assert_eq!(mac.transports, ["internal", "hybrid"]);
    assert_eq!(mac.authenticator.attachment.as_deref(), Some("platform"));
    assert_eq!(
        mac.authenticator.aaguid.as_deref(),
        Some("fbfc3007-154e-4ecc-8c0b-6e020557d7bd")
    );
    assert_eq!(mac.registered_from.browser.as_deref(), Some("Safari"));
    assert_eq!(mac.registered_from.city.as_deref(), Some("San Francisco"));
    assert!(mac.created_at.is_some());
    let key = passkeys.iter().find(|p| p.id == key_id).unwrap();
    assert_eq!(key.display_name, "<b>Spare</b> key");
    assert!(key.device_bound);
    assert!(!key.synced);

    // When one is renamed (with padding)
    let renamed = client
        .rename_passkey(&laptop_id, "  Work laptop  ")
        .await
        .unwrap();
    assert_eq!(renamed.id, laptop_id);
    assert_eq!(renamed.display_name, "Work laptop");
    let listed = client.list_passkeys().await.unwrap();
    assert!(listed
        .iter()
        .any(|p| p.id == laptop_id && p.display_name == "Work laptop"));

    // When the other is removed
    client.remove_passkey(&key_id).await.unwrap();
    let listed = client.list_passkeys().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, laptop_id);

    // Then removing it again says it is gone
    let error = client.remove_passkey(&key_id).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    let error = client
        .rename_passkey("wac_does_not_exist", "x")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn other_users_passkeys_are_out_of_reach() {
    let harness = Env::start().await;
    let (client, _, _, _) = signed_in(&harness).await;
    let stranger = harness
        .emulator
        .state()
        .db
        .call(|conn| scalekit_emulator::db::find_or_create_user_by_email(conn, "eve@example.com"))
        .await
        .unwrap();
    let foreign = add_passkey(&harness, &stranger.id, laptop()).await;
    assert!(client.list_passkeys().await.unwrap().is_empty());
    let error = client.remove_passkey(&foreign).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Forbidden | ErrorKind::NotFound),
        "{error:?}"
    );
    let error = client.rename_passkey(&foreign, "mine").await.unwrap_err();
    assert!(matches!(
        error.kind(),
        ErrorKind::Forbidden | ErrorKind::NotFound
    ));
}

#[tokio::test]
async fn invalid_names_are_refused_before_any_request() {
    let harness = Env::start().await;
    let (client, config, store, _) = signed_in(&harness).await;
    let subject = store.session(&config).await.unwrap().account.subject;
    let id = add_passkey(&harness, &subject, laptop()).await;
    let before = harness.api_requests();
    let too_long = "n".repeat(DISPLAY_NAME_MAX_CHARS + 1);
    for name in ["", "   ", too_long.as_str(), "tab\there", "line\nbreak"] {
        let error = client.rename_passkey(&id, name).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{name:?}");
    }
    assert_eq!(harness.api_requests(), before, "nothing was sent");
    let exactly_120 = "n".repeat(DISPLAY_NAME_MAX_CHARS);
    let renamed = client.rename_passkey(&id, &exactly_120).await.unwrap();
    assert_eq!(renamed.display_name, exactly_120);
}

#[tokio::test]
async fn signed_out_calls_ask_for_sign_in() {
    let harness = Env::start().await;
    let browser = common::LoginBrowser::new(&harness, common::Delivery::Nothing);
    let config = harness.config(passkeys_core::RedirectMode::Loopback { port: 0 });
    let client = common::client(
        config,
        Default::default(),
        browser.clone(),
        Default::default(),
    )
    .await;
    assert_eq!(
        client.list_passkeys().await.unwrap_err().kind(),
        ErrorKind::SignInRequired
    );
    assert_eq!(
        client.remove_passkey("wac_1").await.unwrap_err().kind(),
        ErrorKind::SignInRequired
    );
    assert_eq!(
        client.add_passkey_url().as_str(),
        format!("{}ui/profile/passkeys", harness.base_url)
    );
    assert_eq!(client.manage_passkeys_url(), client.add_passkey_url());
    client.add_passkey().await.unwrap();
    assert_eq!(browser.opened(), [client.add_passkey_url()]);
    assert_eq!(harness.api_requests(), 0);
}

#[tokio::test]
async fn without_a_broker_passkeys_are_managed_in_the_browser() {
    // Given a signed-in user whose app has no passkeys broker configured
    let harness = Env::start().await;
    let (_, mut config, store, browser) = signed_in(&harness).await;
    config.api = None;
    let client = common::client(config.clone(), store.clone(), browser, Default::default()).await;
    let before = store.snapshot();
    let requests_before = harness.proxy.requests.lock().unwrap().len();

    // When the passkeys are listed, renamed or removed
    let errors = [
        client.list_passkeys().await.unwrap_err(),
        client.rename_passkey("wac_1", "Laptop").await.unwrap_err(),
        client.remove_passkey("wac_1").await.unwrap_err(),
    ];

    // Then each says a broker is needed and points to the browser, and
    // nothing was sent (not even a refresh) and nothing changed
    for error in errors {
        assert!(
            matches!(error, passkeys_core::Error::PasskeysBrokerMissing),
            "{error:?}"
        );
        let shown = passkeys_core::UiError::from(error);
        assert_eq!(shown.kind, ErrorKind::PasskeysBrokerMissing);
        assert_eq!(
            serde_json::to_value(&shown).unwrap()["kind"],
            "passkeysBrokerMissing"
        );
        assert!(
            shown.message.contains("in the browser"),
            "{}",
            shown.message
        );
    }
    assert_eq!(
        harness.proxy.requests.lock().unwrap().len(),
        requests_before
    );
    assert_eq!(store.snapshot(), before);
    assert_eq!(
        client.manage_passkeys_url().as_str(),
        format!("{}ui/profile/passkeys", harness.base_url)
    );
}

#[tokio::test]
async fn the_environment_refuses_a_users_token_on_the_credentials_api() {
    // Given a signed-in user whose app points its passkeys API at the
    // environment itself (the old direct mode)
    let harness = Env::start().await;
    let (_, config, store, browser) = signed_in(&harness).await;
    let direct = config.with_api_url(harness.base_url.clone());
    let client = common::client(direct, store.clone(), browser, Default::default()).await;
    let before = store.snapshot();

    // When the passkeys are listed
    let error = client.list_passkeys().await.unwrap_err();

    // Then the environment refuses the user's token (it takes only an
    // environment client's token), and the session is kept
    assert_eq!(error.kind(), ErrorKind::Forbidden, "{error:?}");
    match &error {
        passkeys_core::Error::Api(api) => {
            assert_eq!(api.status, 403);
            assert_eq!(api.code, Some(7), "PERMISSION_DENIED");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.snapshot(), before);
}
