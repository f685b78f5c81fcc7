//! The local emulator as a child process: the app's start with nothing
//! configured runs the `scalekit-emulator` binary and talks to it, and the
//! child is gone once its guard is dropped.
//!
//! The binary is the one cargo builds in the same target directory
//! (`cargo test --workspace` builds it; alone: `cargo build -p scalekit-emulator`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use passkeys_core::{BrowserLauncher, SessionState};
use passkeys_desktop_lib::bootstrap;
use passkeys_desktop_lib::emulator_process::{binary_in, EmulatorCommand, EmulatorProcess};
use url::Url;

const EMAIL: &str = "sidecar@example.com";

/// `target/<profile>/scalekit-emulator`, beside this test's `deps` directory.
fn emulator_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = binary_in(profile_dir);
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build -p scalekit-emulator` (cargo test --workspace builds it)",
        binary.display()
    );
    binary
}

/// Discovery from the emulator at `base`: its issuer.
async fn issuer(base: &Url) -> reqwest::Result<String> {
    let discovery: serde_json::Value =
        reqwest::get(base.join(".well-known/openid-configuration").unwrap())
            .await?
            .error_for_status()?
            .json()
            .await?;
    Ok(discovery["issuer"].as_str().unwrap_or_default().to_owned())
}

/// Whether the process has exited and been reaped: it has no `/proc` entry
/// (elsewhere than on Linux the tests rely on the port no longer answering).
fn process_gone(pid: u32) -> bool {
    !cfg!(target_os = "linux") || !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test]
async fn the_guard_starts_the_binary_and_dropping_it_ends_the_child() {
    // Given the emulator started through the guard, as the app starts it
    let dir = tempfile::tempdir().unwrap();
    let emulator = EmulatorProcess::start(&EmulatorCommand {
        binary: emulator_binary(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data: dir.path().join("emulator.db"),
    })
    .await
    .unwrap();
    let base = emulator.base_url().clone();
    let pid = emulator.id().unwrap();

    // Then it serves discovery, with its base URL as issuer, from the given file
    assert_eq!(
        issuer(&base).await.unwrap(),
        base.as_str().trim_end_matches('/')
    );
    assert!(dir.path().join("emulator.db").is_file());

    // When the guard is dropped
    drop(emulator);

    // Then the child has exited and been reaped, and nothing answers any more
    assert!(process_gone(pid), "the emulator ({pid}) is still there");
    assert!(issuer(&base).await.is_err());
}

/// Signs in on the emulator's hosted pages with an email code and follows the
/// callback to the app's loopback listener.
struct SigningInBrowser;

impl BrowserLauncher for SigningInBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        if url.path() != "/oauth/authorize" {
            return Ok(());
        }
        let url = url.clone();
        tokio::spawn(async move {
            let base = Url::parse(&url.origin().ascii_serialization()).unwrap();
            let http = scalekit_emulator::testing::browser_client().unwrap();
            let callback =
                scalekit_emulator::testing::sign_in_with_email_code(&http, &url, EMAIL, &base)
                    .await
                    .unwrap();
            http.get(callback).send().await.unwrap();
        });
        Ok(())
    }
}

#[tokio::test]
#[ignore = "needs a Secret Service session: run through the project's test script"]
async fn a_first_run_with_nothing_configured_signs_in_against_the_emulator_binary() {
    // Given nothing configured: no config file, no environment variables,
    // the data directory in a temporary home, a keychain service of its own
    let home = tempfile::tempdir().unwrap();
    for name in [
        "PASSKEYS_ENV_URL",
        "PASSKEYS_CLIENT_ID",
        "PASSKEYS_REDIRECT",
        "PASSKEYS_DEEP_LINK_URI",
        "PASSKEYS_API_URL",
        "PASSKEYS_BROWSER",
    ] {
        std::env::remove_var(name);
    }
    std::env::set_var("PASSKEYS_CONFIG", home.path().join("no-config.toml"));
    std::env::set_var("XDG_DATA_HOME", home.path().join("data"));
    let service = format!("passkeys-sidecar-test-{}", std::process::id());
    std::env::set_var("PASSKEYS_KEYCHAIN_SERVICE", &service);

    // When the app starts
    let ready =
        bootstrap::start_with_emulator_binary(Arc::new(SigningInBrowser), Some(&emulator_binary()))
            .await
            .unwrap();

    // Then it runs the emulator as a child, keeps its data in the app's data
    // directory, and talks to it
    assert!(ready.environment.embedded_emulator);
    let emulator = ready.emulator().expect("an emulator process");
    let base = emulator.base_url().clone();
    let pid = emulator.id().unwrap();
    assert_eq!(ready.environment.url, base.as_str().trim_end_matches('/'));
    assert_eq!(issuer(&base).await.unwrap(), ready.environment.url);
    assert!(home
        .path()
        .join("data")
        .join(bootstrap::APP_IDENTIFIER)
        .join("emulator.db")
        .is_file());

    // And a person signs in against it with the demo client
    let account = ready.client.sign_in(|_| {}).await.unwrap();
    assert_eq!(account.email.as_deref(), Some(EMAIL));
    assert!(matches!(
        ready.client.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));
    ready.client.sign_out().await.unwrap();

    // When the app's core is dropped (the app ends)
    drop(ready);

    // Then the emulator is gone
    assert!(process_gone(pid), "the emulator ({pid}) is still there");
    assert!(issuer(&base).await.is_err());
}
