//! The local environment as child processes: the app's start with nothing
//! configured runs the `scalekit-emulator` and `passkeys-broker` binaries,
//! signs in at the emulator and manages passkeys through the broker, and the
//! children are gone once their guards are dropped.
//!
//! The binaries are the ones cargo builds in the same target directory
//! (`cargo test --workspace` builds them; alone:
//! `cargo build -p scalekit-emulator -p passkeys-broker`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use passkeys_core::{BrowserLauncher, SessionState};
use passkeys_headless::core_start;
use passkeys_headless::local_servers::{
    binary_in, ChildServer, EmulatorCommand, BROKER_BINARY, EMULATOR_BINARY,
};
use scalekit_emulator::testing::{self, browser_client, hidden_field};
use scalekit_emulator::DevMailbox;
use url::Url;

const EMAIL: &str = "sidecar@example.com";

/// `target/<profile>`, beside this test's `deps` directory, where cargo
/// builds the emulator's and the broker's binaries.
fn binaries_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    for name in [EMULATOR_BINARY, BROKER_BINARY] {
        let binary = binary_in(profile_dir, name);
        assert!(
            binary.is_file(),
            "{} is missing: run `cargo build -p {name}` (cargo test --workspace builds it)",
            binary.display()
        );
    }
    profile_dir.to_path_buf()
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
    let emulator = ChildServer::start(
        &EmulatorCommand {
            binary: binary_in(&binaries_dir(), EMULATOR_BINARY),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: dir.path().join("emulator.db"),
            client_secret_file: dir.path().join("broker-client-secret"),
        }
        .server(),
    )
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
    // and keeps its confidential client's secret where only its owner reads it
    let secret_file = dir.path().join("broker-client-secret");
    assert!(secret_file.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }

    // And when a sign-in code is sent to someone, another program that
    // knows their address reads nothing, and the app (which read the
    // mailbox's address from the emulator's output) reads the code
    request_code(&base, "someone@example.com").await;
    let plain = base.join("_dev/mailbox?email=someone@example.com").unwrap();
    let answer = reqwest::get(plain).await.unwrap();
    assert_eq!(answer.status(), 404);
    assert!(!answer.text().await.unwrap().contains("someone@example.com"));
    let mailbox = DevMailbox::parse(emulator.dev_mailbox().unwrap().secret()).unwrap();
    let code = testing::latest_code(&reqwest::Client::new(), &mailbox, "someone@example.com")
        .await
        .unwrap();
    assert!(code.is_some_and(|code| code.len() == 6));

    // When the guard is dropped
    drop(emulator);

    // Then the child has exited and been reaped, and nothing answers any more
    assert!(process_gone(pid), "the emulator ({pid}) is still there");
    assert!(issuer(&base).await.is_err());
}

/// Asks the emulator at `base` for a sign-in code for `email`, as a person's
/// sign-in does.
async fn request_code(base: &Url, email: &str) {
    let http = browser_client().unwrap();
    let login = http
        .get(base.join("ui/login").unwrap())
        .send()
        .await
        .unwrap();
    let csrf = hidden_field(&login.text().await.unwrap(), "csrf").unwrap();
    let sent = http
        .post(base.join("ui/login/email").unwrap())
        .form(&[("csrf", csrf.as_str()), ("email", email)])
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_redirection(), "{}", sent.status());
}

/// Signs in on the emulator's hosted pages with an email code, read at the
/// mailbox address the app shows its person, and follows the callback to the
/// app's loopback listener.
#[derive(Default)]
struct SigningInBrowser {
    /// Set once the app has started the emulator.
    mailbox: OnceLock<DevMailbox>,
}

impl BrowserLauncher for SigningInBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        if url.path() != "/oauth/authorize" {
            return Ok(());
        }
        let url = url.clone();
        let mailbox = self
            .mailbox
            .get()
            .cloned()
            .expect("the app's mailbox address");
        tokio::spawn(async move {
            let http = browser_client().unwrap();
            let callback = testing::sign_in_with_email_code(&http, &url, EMAIL, &mailbox)
                .await
                .unwrap();
            http.get(callback).send().await.unwrap();
        });
        Ok(())
    }
}

#[tokio::test]
#[ignore = "needs a Secret Service session: run through the project's test script"]
async fn a_first_run_with_nothing_configured_signs_in_and_manages_passkeys_through_the_broker() {
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
    let browser = Arc::new(SigningInBrowser::default());
    let ready = core_start::start_with_local_binaries(browser.clone(), Some(&binaries_dir()))
        .await
        .unwrap();

    // Then it runs the emulator and the broker as children, keeps the data
    // in the app's data directory, and talks to them
    let environment = ready.environment().unwrap();
    assert!(environment.embedded_emulator);
    // and knows where its emulator's sign-in codes are, as the window shows it
    let shown = environment
        .dev_mailbox
        .as_ref()
        .expect("the mailbox address");
    browser
        .mailbox
        .set(DevMailbox::parse(shown.secret()).unwrap())
        .unwrap();
    let local = ready.local().expect("a local environment");
    let base = local.emulator.base_url().clone();
    let broker = local.broker.base_url().clone();
    let pids = [local.emulator.id().unwrap(), local.broker.id().unwrap()];
    assert_eq!(environment.url, base.as_str().trim_end_matches('/'));
    assert_eq!(issuer(&base).await.unwrap(), environment.url);
    assert_eq!(ready.accounts.environment_names(), ["local"]);
    assert!(home
        .path()
        .join("data")
        .join(core_start::APP_IDENTIFIER)
        .join("emulator.db")
        .is_file());

    // And a person signs in against it with the demo client
    let account = ready.accounts.sign_in("local", |_| {}).await.unwrap();
    assert_eq!(account.email.as_deref(), Some(EMAIL));
    let client = ready.client().unwrap();
    assert!(matches!(
        client.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));
    // and the passkeys calls go to the broker, which answers them
    assert_eq!(
        client.config().api_url().unwrap().origin(),
        broker.origin(),
        "passkeys go through the broker"
    );
    assert!(client.list_passkeys().await.unwrap().is_empty());
    ready.accounts.sign_out(&account.key).await.unwrap();
    assert!(ready.accounts.list().is_empty());

    // When the app's core is dropped (the app ends)
    drop(ready);

    // Then the emulator and the broker are gone
    for pid in pids {
        assert!(process_gone(pid), "a local server ({pid}) is still there");
    }
    assert!(issuer(&base).await.is_err());
    assert!(reqwest::get(broker.join("healthz").unwrap()).await.is_err());
}
