//! The token vault against the system's own keychain, whichever it is: the
//! Secret Service on Linux, the Credential Manager on Windows (where a
//! session is kept in chunks under its 2,560-byte limit), the Keychain on
//! macOS. Written only against the crate's public API so that the same test
//! runs on the three systems (CI runs it on each, `--ignored`).
//!
//! Every test uses a random service name and removes what it stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use passkeys_core::secret::{AccessToken, IdToken, RefreshToken};
use passkeys_core::{Account, KeyringStore, SecretStore, StoredSession, TokenVault};
use time::OffsetDateTime;

const ACCOUNT: &str = "https://acme.scalekit.dev/|ntvc_native";

fn random_service() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("passkeys-native-test-{}-{nanos}", std::process::id())
}

/// A session of real size: its JSON is far over one Windows credential.
fn session(refresh_token: &str) -> StoredSession {
    StoredSession {
        access_token: AccessToken::new("a".repeat(1400)),
        refresh_token: Some(RefreshToken::new(refresh_token.to_string())),
        id_token: Some(IdToken::new("i".repeat(1800))),
        expires_at: OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap(),
        account: Account {
            subject: "usr_1".into(),
            name: Some("Zoë Ångström 😀".into()),
            email: Some("zoe@example.com".into()),
            environment: "https://acme.scalekit.dev/".into(),
        },
    }
}

/// The vault as the app builds it: the platform's own layout.
fn vault(service: &str) -> TokenVault {
    TokenVault::new(Arc::new(KeyringStore::new(service)), ACCOUNT)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the OS keychain (a Secret Service session, Credential Manager or Keychain): run through the project's test script or CI"]
async fn a_large_session_is_kept_whole_read_by_a_new_vault_and_purged() {
    // Given the system keychain and a session larger than 2,560 bytes
    let service = random_service();
    let refresh_token = format!("rt-{service}-{}", "r".repeat(600));
    let stored = session(&refresh_token);

    // When the app saves it
    vault(&service).save(&stored).await.unwrap();

    // Then another vault (the next start of the app) reads it back whole
    let loaded = vault(&service).load().await.unwrap().expect("a session");
    assert_eq!(loaded.refresh_token.unwrap().secret(), &refresh_token);
    assert_eq!(loaded.access_token.secret(), stored.access_token.secret());
    assert_eq!(loaded.account, stored.account);

    // When it is replaced by a shorter one, and then purged
    vault(&service).save(&session("short")).await.unwrap();
    let replaced = vault(&service).load().await.unwrap().expect("a session");
    assert_eq!(replaced.refresh_token.unwrap().secret(), "short");
    vault(&service).purge().await.unwrap();

    // Then nothing is left
    assert!(vault(&service).load().await.unwrap().is_none());
    let store = KeyringStore::new(&service);
    assert_eq!(store.get(ACCOUNT).unwrap(), None);
    for chunk in ["#1", "#2", "#3", "#b1", "#b2", "#b3"] {
        assert_eq!(
            store.get(&format!("{ACCOUNT}{chunk}")).unwrap(),
            None,
            "{chunk}"
        );
    }
}

#[test]
#[ignore = "needs the OS keychain (a Secret Service session, Credential Manager or Keychain): run through the project's test script or CI"]
fn the_store_round_trips_a_value_at_the_windows_limit_and_deletes_it() {
    let store = KeyringStore::new(random_service());
    // 1,280 UTF-16 units: exactly 2,560 bytes, the most one Windows credential holds.
    let at_limit = "é".repeat(1280);
    store.set(ACCOUNT, &at_limit).unwrap();
    assert_eq!(
        store.get(ACCOUNT).unwrap().as_deref(),
        Some(at_limit.as_str())
    );
    store.set(ACCOUNT, "replaced").unwrap();
    assert_eq!(store.get(ACCOUNT).unwrap().as_deref(), Some("replaced"));
    store.delete(ACCOUNT).unwrap();
    assert_eq!(store.get(ACCOUNT).unwrap(), None);
    // Deleting what is not there is not an error.
    store.delete(ACCOUNT).unwrap();
}
