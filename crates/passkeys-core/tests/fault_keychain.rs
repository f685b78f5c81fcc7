//! Keychain faults and what the user sees: no keychain at all (no D-Bus), a
//! locked keychain, a keychain that never answers. Each is an error of kind
//! `keychain` with a sentence saying what to do; tokens are never kept
//! anywhere else (no plain-text fallback, nothing half-stored).
//!
//! The tests that talk to the Secret Service are ignored by default: the
//! project's test script runs them inside a private, unlocked keyring.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[cfg(target_os = "linux")]
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

#[cfg(target_os = "linux")]
use common::signed_in;
use common::{Delivery, Env, LoginBrowser};
use passkeys_core::{Client, ClientOptions, ErrorKind, RedirectMode, SecretStore, UiError};
#[cfg(target_os = "linux")]
use passkeys_core::{KeyringStore, SessionState};

/// A keychain that does not answer for far longer than the bound (a password
/// prompt nobody sees, a hung daemon). Not forever: the test runtime waits
/// for its blocking threads when it shuts down.
struct HangingStore;

const HANG: Duration = Duration::from_secs(3);

impl SecretStore for HangingStore {
    fn get(&self, _: &str) -> passkeys_core::Result<Option<String>> {
        std::thread::sleep(HANG);
        Ok(None)
    }
    fn set(&self, _: &str, _: &str) -> passkeys_core::Result<()> {
        std::thread::sleep(HANG);
        Ok(())
    }
    fn delete(&self, _: &str) -> passkeys_core::Result<()> {
        std::thread::sleep(HANG);
        Ok(())
    }
}

fn short_keychain_timeout() -> ClientOptions {
    ClientOptions {
        keychain_timeout: Duration::from_millis(300),
        ..ClientOptions::default()
    }
}

fn assert_keychain_error(shown: &UiError, words: &str) {
    assert_eq!(shown.kind, ErrorKind::Keychain, "{}", shown.message);
    assert!(shown.message.contains(words), "{}", shown.message);
    assert!(shown.message.contains("keychain"), "{}", shown.message);
}

#[tokio::test]
async fn a_keychain_that_never_answers_is_a_bounded_keychain_error() {
    let env = Env::start().await;
    let browser = LoginBrowser::new(&env, Delivery::Loopback);
    let app = Client::with_options(
        env.config(RedirectMode::Loopback { port: 0 }),
        Arc::new(HangingStore),
        browser,
        short_keychain_timeout(),
    )
    .await
    .unwrap();

    let at_start = UiError::from(app.session().await.unwrap_err());
    assert_keychain_error(&at_start, "did not answer within");

    // A sign-in gets as far as the code exchange, then cannot store the tokens.
    let at_sign_in = UiError::from(app.sign_in(|_| {}).await.unwrap_err());
    assert_keychain_error(&at_sign_in, "did not answer within");
    assert_eq!(env.code_grants(), 1);
    let later = app.list_passkeys().await.unwrap_err();
    assert_eq!(
        later.kind(),
        ErrorKind::Keychain,
        "no session was kept in memory instead"
    );
}

/// Runs `test` of this binary in a child process with `env` set; returns its stdout.
#[cfg(target_os = "linux")]
fn run_child(test: &str, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", test, "--nocapture", "--include-ignored"]);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// No Secret Service at all (no session bus): the app says so, naming the
/// missing piece and the doctor, at start and after a sign-in, and stores
/// nothing anywhere. (The Secret Service's D-Bus is Linux's; Windows' and
/// macOS' keychains are always there.)
#[cfg(target_os = "linux")]
#[test]
fn no_keychain_at_all_is_a_keychain_error_the_user_sees() {
    if std::env::var("FAULT_KEYCHAIN_CHILD").is_ok() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let env = Env::start().await;
            let service = format!("fault-keychain-{}", std::process::id());
            let app = Client::new(
                env.config(RedirectMode::Loopback { port: 0 }),
                Arc::new(KeyringStore::new(service)),
                LoginBrowser::new(&env, Delivery::Loopback),
            )
            .await
            .unwrap();
            let at_start = UiError::from(app.session().await.unwrap_err());
            assert_keychain_error(&at_start, "no D-Bus session bus");
            assert_keychain_error(&at_start, "passkeys-desktop doctor");
            let at_sign_in = UiError::from(app.sign_in(|_| {}).await.unwrap_err());
            assert_keychain_error(&at_sign_in, "no D-Bus session bus");
            assert_keychain_error(&at_sign_in, "passkeys-desktop doctor");
            println!("child: {}", serde_json::to_string(&at_start).unwrap());
        });
        return;
    }
    let stdout = run_child(
        "no_keychain_at_all_is_a_keychain_error_the_user_sees",
        &[
            ("FAULT_KEYCHAIN_CHILD", "1"),
            (
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/fault-keychain-bus",
            ),
        ],
    );
    assert!(
        stdout
            .contains("child: {\"kind\":\"keychain\",\"message\":\"There is no D-Bus session bus"),
        "{stdout}"
    );
}

/// The login collection locked while the app runs: reading the session is a
/// keychain error telling the user to unlock it (or, from the kernel cache,
/// still the whole session), never "signed out" and never a purge: the
/// entry is still in the keychain. Runs in a private keyring of its own
/// (started through the project's `scripts/with-keyring`) because it leaves
/// that keyring locked.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs a Secret Service session: run through the project's test script"]
fn a_locked_keychain_is_a_keychain_error_and_nothing_is_purged() {
    const TEST: &str = "a_locked_keychain_is_a_keychain_error_and_nothing_is_purged";
    if std::env::var("FAULT_LOCKED_CHILD").is_err() {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-keyring");
        let output = Command::new(script)
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--include-ignored"])
            .env("FAULT_LOCKED_CHILD", "1")
            .env_remove("PASSKEYS_KEYRING_SESSION")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("child: locked:"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let env = Env::start().await;
        let service = format!("fault-keychain-locked-{}", std::process::id());
        let (_, config, memory, browser) = signed_in(&env).await;
        let session = memory.session(&config).await.unwrap();
        passkeys_core::TokenVault::for_config(
            &config,
            Arc::new(KeyringStore::new(service.clone())),
        )
        .save(&session)
        .await
        .unwrap();

        secret_service(&[
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]);

        let app = Client::with_options(
            config.clone(),
            Arc::new(KeyringStore::new(service.clone())),
            browser,
            short_keychain_timeout(),
        )
        .await
        .unwrap();
        match app.session().await {
            Err(error) => {
                let shown = UiError::from(error);
                assert_eq!(shown.kind, ErrorKind::Keychain, "{}", shown.message);
                assert!(
                    shown.message.contains("nlock it"),
                    "says what to do: {}",
                    shown.message
                );
                println!("child: locked: {}", serde_json::to_string(&shown).unwrap());
            }
            Ok(SessionState::SignedIn { account }) => {
                assert_eq!(account, session.account);
                println!("child: locked: still read whole from the kernel cache");
            }
            Ok(SessionState::SignedOut) => panic!("a locked keychain looked like no session"),
        }

        // A save into the locked keychain is a keychain error too, not a hang.
        let saved = passkeys_core::TokenVault::for_config(
            &config,
            Arc::new(KeyringStore::new(service.clone())),
        )
        .with_timeout(Duration::from_millis(300))
        .save(&session)
        .await
        .unwrap_err();
        assert_keychain_error(&UiError::from(saved), "nlock it");

        // Nothing was purged: the entry is still there, locked.
        let found = secret_service(&[
            "org.freedesktop.Secret.Service.SearchItems",
            &format!("dict:string:string:service,{service}"),
        ]);
        assert!(
            found.contains("/org/freedesktop/secrets/collection/login/"),
            "{found}"
        );
    });
}

/// Calls the Secret Service on the session bus; returns the reply.
#[cfg(target_os = "linux")]
fn secret_service(call: &[&str]) -> String {
    let output = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
        ])
        .args(call)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
