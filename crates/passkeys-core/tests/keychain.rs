//! The token vault against a real OS keychain (Secret Service on Linux).
//!
//! Run inside a D-Bus session with an unlocked gnome-keyring; the project's
//! test script does that (`scripts/with-keyring cargo test -- --include-ignored`).
//! Every test uses a random service name and removes what it stored.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use keyring::credential::CredentialApi;
use keyring::secret_service::SsCredential;
use passkeys_core::secret::{AccessToken, IdToken, RefreshToken};
use passkeys_core::{Account, ErrorKind, KeyringStore, SecretStore, StoredSession, TokenVault};
use time::OffsetDateTime;

const HOW_TO_RUN: &str = "run it inside a D-Bus session with an unlocked gnome-keyring, e.g. \
`dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
cargo test -p passkeys-core --test keychain -- --include-ignored'` (the project's scripts/with-keyring does this)";
const CHILD_SERVICE: &str = "PASSKEYS_CORE_TEST_CHILD_SERVICE";
const CHILD_EXPECT: &str = "PASSKEYS_CORE_TEST_CHILD_EXPECT";
const ACCOUNT: &str = "http://localhost:4000/|ntvc_demo";

fn random_service() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("passkeys-core-test-{}-{nanos}", std::process::id())
}

/// Fails loudly (instead of passing silently) when no Secret Service answers.
fn require_secret_service(service: &str) {
    let probe = SsCredential::new_with_target(None, service, "probe").unwrap();
    match probe.get_password() {
        Ok(_) | Err(keyring::Error::NoEntry) => {}
        Err(error) => panic!("No Secret Service is reachable ({error}); {HOW_TO_RUN}"),
    }
}

/// Reads an entry straight from the Secret Service (not the keyutils cache).
fn secret_service_entry(service: &str, user: &str) -> Option<String> {
    match SsCredential::new_with_target(None, service, user)
        .unwrap()
        .get_password()
    {
        Ok(secret) => Some(secret),
        Err(keyring::Error::NoEntry) => None,
        Err(error) => panic!("Secret Service lookup failed: {error}"),
    }
}

fn session(refresh_token: &str) -> StoredSession {
    StoredSession {
        access_token: AccessToken::new("a".repeat(900)),
        refresh_token: Some(RefreshToken::new(refresh_token.to_string())),
        id_token: Some(IdToken::new("i".repeat(1200))),
        expires_at: OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap(),
        account: Account {
            subject: "usr_1".into(),
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            environment: "http://localhost:4000/".into(),
        },
    }
}

fn vault(service: &str) -> TokenVault {
    TokenVault::new(Arc::new(KeyringStore::new(service)), ACCOUNT)
}

/// The Windows layout (1,200 UTF-16 units a chunk), which earlier versions
/// used everywhere.
fn chunked_vault(service: &str) -> TokenVault {
    vault(service).with_chunks_of(1200)
}

/// The chunk entries of either set (`#1..`, `#b1..`) in the Secret Service.
fn chunks_left(service: &str) -> Vec<String> {
    (1..=4)
        .flat_map(|index| [format!("{ACCOUNT}#{index}"), format!("{ACCOUNT}#b{index}")])
        .filter(|user| secret_service_entry(service, user).is_some())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service session: run through the project's test script"]
async fn vault_survives_a_new_process_and_purges() {
    // The same test, re-executed as a child, only reads back.
    if let Ok(service) = std::env::var(CHILD_SERVICE) {
        let expected = std::env::var(CHILD_EXPECT).unwrap();
        let loaded = vault(&service).load().await.unwrap();
        match (loaded, expected.as_str()) {
            (None, "none") => println!("child: no session, as expected"),
            (Some(session), refresh) => {
                assert_eq!(session.refresh_token.unwrap().secret(), refresh);
                assert_eq!(session.account.email.as_deref(), Some("ada@example.com"));
                println!("child: read the session back");
            }
            (None, refresh) => panic!("child: expected a session with {refresh:.8}…, found none"),
        }
        return;
    }

    // Given a real Secret Service and a session too large for one Windows credential
    let service = random_service();
    require_secret_service(&service);
    let refresh_token = format!("rt-{service}");
    let vault = vault(&service);

    // When it is stored
    vault.save(&session(&refresh_token)).await.unwrap();

    // Then it is in the Secret Service itself, whole, in one entry
    let main = secret_service_entry(&service, ACCOUNT).expect("main entry in the Secret Service");
    assert!(main.starts_with('{'), "{main:.20}");
    assert_eq!(chunks_left(&service), Vec::<String>::new());

    // And a new process reads it back
    run_child(&service, &refresh_token);

    // When it is purged
    vault.purge().await.unwrap();

    // Then nothing is left, in this process, in the Secret Service, or for a new process
    assert!(vault.load().await.unwrap().is_none());
    assert_eq!(secret_service_entry(&service, ACCOUNT), None);
    assert_eq!(chunks_left(&service), Vec::<String>::new());
    run_child(&service, "none");
}

fn run_child(service: &str, expect: &str) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "vault_survives_a_new_process_and_purges",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_SERVICE, service)
        .env(CHILD_EXPECT, expect)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("child: "),
        "child failed:\n{stdout}\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service session: run through the project's test script"]
async fn store_round_trip_and_rotation() {
    let service = random_service();
    require_secret_service(&service);
    let store = KeyringStore::new(&service);
    assert_eq!(store.get("user").unwrap(), None);
    store.set("user", "first").unwrap();
    store.set("user", "second").unwrap();
    assert_eq!(store.get("user").unwrap().as_deref(), Some("second"));
    assert_eq!(
        secret_service_entry(&service, "user").as_deref(),
        Some("second")
    );
    store.delete("user").unwrap();
    store.delete("user").unwrap();
    assert_eq!(store.get("user").unwrap(), None);

    // In chunks (Windows), a rotation that shrinks the session removes the stale chunks.
    let vault = chunked_vault(&service);
    vault.save(&session("long")).await.unwrap();
    assert_eq!(chunks_left(&service).len(), 2);
    vault.save(&session("longer")).await.unwrap();
    assert_eq!(
        chunks_left(&service),
        [format!("{ACCOUNT}#b1"), format!("{ACCOUNT}#b2")]
    );
    assert_eq!(
        vault
            .load()
            .await
            .unwrap()
            .unwrap()
            .refresh_token
            .unwrap()
            .secret(),
        "longer"
    );
    let mut small = session("short");
    small.access_token = AccessToken::new("a".into());
    small.id_token = None;
    vault.save(&small).await.unwrap();
    assert!(!secret_service_entry(&service, ACCOUNT)
        .unwrap()
        .starts_with("chunks:"));
    assert_eq!(chunks_left(&service), Vec::<String>::new());
    vault.purge().await.unwrap();
    assert_eq!(secret_service_entry(&service, ACCOUNT), None);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service session: run through the project's test script"]
async fn a_session_an_earlier_version_chunked_is_read_replaced_and_purged_whole() {
    // Given a session an earlier version wrote in chunks on Linux
    let service = random_service();
    require_secret_service(&service);
    chunked_vault(&service).save(&session("old")).await.unwrap();
    assert!(secret_service_entry(&service, ACCOUNT)
        .unwrap()
        .starts_with("chunks:"));
    assert_eq!(chunks_left(&service).len(), 2);

    // When this version reads it and stores a rotated session
    let vault = vault(&service);
    let loaded = vault.load().await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token.unwrap().secret(), "old");
    vault.save(&session("new")).await.unwrap();

    // Then the Secret Service holds one whole entry and no chunk
    assert!(secret_service_entry(&service, ACCOUNT)
        .unwrap()
        .starts_with('{'));
    assert_eq!(chunks_left(&service), Vec::<String>::new());
    let loaded = self::vault(&service).load().await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token.unwrap().secret(), "new");

    // And a sign-out in a process that never read the chunks removes them too
    chunked_vault(&service)
        .save(&session("old again"))
        .await
        .unwrap();
    self::vault(&service).purge().await.unwrap();
    assert_eq!(secret_service_entry(&service, ACCOUNT), None);
    assert_eq!(chunks_left(&service), Vec::<String>::new());
}

/// Without any Secret Service the vault reports a keychain error (no plain-text fallback).
#[test]
fn no_secret_service_is_a_keychain_error() {
    if std::env::var("PASSKEYS_CORE_TEST_NO_BUS").is_ok() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let error = runtime
            .block_on(vault(&random_service()).save(&session("rt")))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Keychain);
        assert!(error.to_string().contains("keychain"), "{error}");
        println!("child: keychain error: {error}");
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_secret_service_is_a_keychain_error",
            "--nocapture",
        ])
        .env("PASSKEYS_CORE_TEST_NO_BUS", "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/passkeys-core-test-bus",
        )
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("child: keychain error"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
