//! The app's command line built for Windows, run under Wine as a person on
//! Windows would run it, against the emulator and the broker (here, in this
//! Linux test process): `--version`, `--help`, `doctor --json`, then a whole
//! session (sign-in by loopback, completed by a scripted browser; status;
//! passkeys list, rename, remove with step-up; sign-out) with its tokens in
//! Wine's Credential Manager, and nothing left there after sign-out.
//!
//! Run by `scripts/test-windows`, which builds `passkeys-desktop.exe`, makes
//! a fresh Wine prefix and names both: `PASSKEYS_WINDOWS_BIN_DIR` (the
//! folder of the `.exe`), `WINEPREFIX`, and `WINE` (default
//! `/usr/lib/wine/wine64`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use passkeys_broker::RunningBroker;
use scalekit_emulator::{testing, RunningEmulator};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};
use url::Url;

const CLIENT_ID: &str = "ntvc_demo";
const BROKER_CLIENT_ID: &str = "skc_demo";
const EMAIL: &str = "wine.user@example.com";
/// The broker wants a sign-in at most this old before a removal: the test
/// waits past it, so the removal asks to confirm it's you.
const STEP_UP_MAX_AGE: Duration = Duration::from_secs(2);
/// How long one command may take under Wine (its first start in a prefix
/// takes seconds).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The Windows program under Wine, with nothing of the person running the
/// tests read: its configuration comes from the variables given.
fn app(args: &[&str]) -> Command {
    let bin_dir = std::env::var_os("PASSKEYS_WINDOWS_BIN_DIR")
        .map(PathBuf::from)
        .expect("PASSKEYS_WINDOWS_BIN_DIR names the folder of passkeys-desktop.exe");
    let wine = std::env::var_os("WINE").unwrap_or_else(|| "/usr/lib/wine/wine64".into());
    assert!(
        std::env::var_os("WINEPREFIX").is_some(),
        "WINEPREFIX names the test's own Wine prefix"
    );
    let mut command = Command::new(wine);
    command
        .arg(bin_dir.join("passkeys-desktop.exe"))
        .args(args)
        .env("WINEDEBUG", "-all")
        .env("PASSKEYS_CONFIG", r"C:\passkeys-test\no-config.toml")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for name in [
        "PASSKEYS_ENV_URL",
        "PASSKEYS_CLIENT_ID",
        "PASSKEYS_API_URL",
        "PASSKEYS_REDIRECT",
        "PASSKEYS_BROWSER",
        "PASSKEYS_KEYCHAIN_SERVICE",
    ] {
        command.env_remove(name);
    }
    command
}

/// What a finished command printed.
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn finish(child: Child) -> Finished {
    let output = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .expect("the command ends in time")
        .expect("the command ran");
    Finished {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn run(command: &mut Command) -> Finished {
    finish(command.spawn().expect("start wine")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Wine and the Windows build: run through scripts/test-windows"]
async fn version_help_and_doctor_answer_under_wine() {
    let version = run(&mut app(&["--version"])).await;
    assert_eq!(version.code, Some(0), "{}", version.stderr);
    assert!(
        version
            .stdout
            .contains(&format!("passkeys-desktop {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        version.stdout
    );

    let help = run(&mut app(&["--help"])).await;
    assert_eq!(help.code, Some(0), "{}", help.stderr);
    for command in [
        "status", "sign-in", "sign-out", "passkeys", "sessions", "doctor",
    ] {
        assert!(
            help.stdout.contains(command),
            "lists {command}: {}",
            help.stdout
        );
    }

    // The doctor with an environment that is not there: every check answers
    // in JSON, the keychain's among them (Wine's Credential Manager).
    let doctor = run(app(&["doctor", "--json"])
        .env("PASSKEYS_ENV_URL", "http://127.0.0.1:9/")
        .env("PASSKEYS_CLIENT_ID", CLIENT_ID))
    .await;
    assert!(!doctor.stderr.contains("panicked"), "{}", doctor.stderr);
    let report: Value = serde_json::from_str(&doctor.stdout)
        .unwrap_or_else(|error| panic!("doctor --json prints JSON ({error}): {}", doctor.stdout));
    let checks = report["checks"].as_array().expect("a list of checks");
    let keychain = checks
        .iter()
        .find(|check| check["name"] == "keychain")
        .unwrap_or_else(|| panic!("a keychain check: {report}"));
    assert_eq!(keychain["verdict"], "ok", "{keychain}");
    // An environment that does not answer is a problem, and the exit says so.
    assert_eq!(doctor.code, Some(1), "{}", doctor.stdout);
}

/// Wine has no WebView2: the window cannot open, and the app says so in one
/// sentence pointing to WebView2 and to the command line, without a crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Wine and the Windows build: run through scripts/test-windows"]
async fn without_webview2_the_window_says_so_in_one_line_under_wine() {
    let window = run(&mut app(&[])).await;
    assert_eq!(window.code, Some(1), "{}\n{}", window.stdout, window.stderr);
    let said = window.stderr.trim_end();
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("WebView2"), "{said}");
    assert!(said.contains("passkeys-desktop --help"), "{said}");
    assert!(!said.contains("panicked"), "{said}");
}

/// An emulator and its broker, as the app's configuration names them.
struct World {
    emulator: RunningEmulator,
    _broker: RunningBroker,
    base: Url,
    broker_url: Url,
    /// A keychain service of this test's own.
    service: String,
}

impl World {
    async fn start() -> World {
        let emulator = scalekit_emulator::start(scalekit_emulator::Config::for_tests())
            .await
            .unwrap();
        let base = emulator.base_url().clone();
        let mut config = passkeys_broker::Config::new(
            base.clone(),
            CLIENT_ID,
            BROKER_CLIENT_ID,
            passkeys_broker::ClientSecret::new(scalekit_emulator::config::TEST_CLIENT_SECRET),
        );
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.step_up_max_age = STEP_UP_MAX_AGE;
        let broker = passkeys_broker::start(config).await.unwrap();
        let broker_url = Url::parse(&format!("http://{}/", broker.local_addr())).unwrap();
        World {
            emulator,
            _broker: broker,
            base,
            broker_url,
            service: format!("passkeys-wine-test-{}", std::process::id()),
        }
    }

    /// The app configured for this world: loopback redirect, and a browser
    /// that cannot start, so the app prints the link for the test to open.
    fn app(&self, args: &[&str]) -> Command {
        let mut command = app(args);
        command
            .env("PASSKEYS_ENV_URL", self.base.as_str())
            .env("PASSKEYS_CLIENT_ID", CLIENT_ID)
            .env("PASSKEYS_API_URL", self.broker_url.as_str())
            .env("PASSKEYS_REDIRECT", "loopback")
            .env("PASSKEYS_BROWSER", "no-browser-under-wine")
            .env("PASSKEYS_KEYCHAIN_SERVICE", &self.service);
        command
    }

    /// Runs `args` with `--json` and returns what it printed as JSON.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let finished = run(&mut self.app(&all)).await;
        assert_eq!(
            finished.code,
            Some(0),
            "{args:?}: {}\n{}",
            finished.stdout,
            finished.stderr
        );
        serde_json::from_str(&finished.stdout)
            .unwrap_or_else(|error| panic!("{args:?} prints JSON ({error}): {}", finished.stdout))
    }

    /// Runs `args` (`--json`: the link goes to stderr) and signs in with an
    /// email code in a scripted browser when the app prints the link; returns
    /// the authorize URL and what the command finally printed.
    async fn through_the_browser(
        &self,
        browser: &reqwest::Client,
        args: &[&str],
    ) -> (Url, Finished) {
        let mut child = self.app(args).spawn().expect("start wine");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let (authorize, before) = tokio::time::timeout(COMMAND_TIMEOUT, link(&mut lines))
            .await
            .expect("the app prints the sign-in link in time");
        let callback = testing::sign_in_with_email_code(
            browser,
            &authorize,
            EMAIL,
            &self.emulator.dev_mailbox(),
        )
        .await
        .unwrap();
        assert_eq!(callback.host_str(), Some("127.0.0.1"), "{callback}");
        // The browser lands on the app's loopback server in Wine.
        let landed = browser.get(callback).send().await.unwrap();
        assert!(landed.status().is_success(), "{}", landed.status());
        let mut finished = finish(child).await;
        while let Ok(Some(line)) = lines.next_line().await {
            finished.stderr.push_str(&line);
            finished.stderr.push('\n');
        }
        finished.stderr.insert_str(0, &before);
        (authorize, finished)
    }

    /// The Credential Manager's entries under this test's service, as Wine's
    /// registry holds them (read through Wine's own `reg`).
    async fn credential_manager_entries(&self) -> Vec<String> {
        let wine = std::env::var_os("WINE").unwrap_or_else(|| "/usr/lib/wine/wine64".into());
        let output = Command::new(wine)
            .args([
                "reg",
                "query",
                r"HKCU\Software\Wine\Credential Manager",
                "/s",
            ])
            .env("WINEDEBUG", "-all")
            .output()
            .await
            .expect("wine reg runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| line.contains(&self.service))
            .map(str::to_owned)
            .collect()
    }
}

/// Reads the app's progress lines until the sign-in link; returns it and
/// the lines before it.
async fn link(lines: &mut Lines<BufReader<ChildStderr>>) -> (Url, String) {
    let mut before = String::new();
    while let Some(line) = lines.next_line().await.expect("read the app's output") {
        if let Some(url) = line.strip_prefix("Open this link to sign in: ") {
            return (Url::parse(url.trim()).expect("the link is a URL"), before);
        }
        before.push_str(&line);
        before.push('\n');
    }
    panic!("the app ended without printing the sign-in link: {before}");
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Wine and the Windows build: run through scripts/test-windows"]
async fn a_whole_session_under_wine_keeps_its_tokens_in_the_credential_manager() {
    let world = World::start().await;
    let browser = testing::browser_client().unwrap();
    assert!(world.credential_manager_entries().await.is_empty());

    // Given a person who signs in on the command line, in their browser
    let (authorize, signed_in) = world
        .through_the_browser(&browser, &["sign-in", "--json"])
        .await;
    assert_eq!(
        signed_in.code,
        Some(0),
        "{}\n{}",
        signed_in.stdout,
        signed_in.stderr
    );
    assert!(
        authorize.as_str().starts_with(world.base.as_str()),
        "{authorize}"
    );
    let account: Value = serde_json::from_str(&signed_in.stdout).unwrap();
    assert_eq!(account["email"], EMAIL, "{account}");
    let subject = account["subject"]
        .as_str()
        .expect("the account's subject")
        .to_owned();

    // Then their tokens are in the Credential Manager, under the app's service
    let stored = world.credential_manager_entries().await;
    assert!(!stored.is_empty(), "nothing in the Credential Manager");
    let status = world.json(&["status"]).await;
    assert_eq!(status["state"], "signedIn", "{status}");

    // When they list, rename and remove their passkey (through the broker)
    let passkey = testing::synced_platform_passkey(
        &subject,
        "wine-credential-1",
        "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
        "Laptop",
    );
    let passkey_id = testing::store_passkey(&world.emulator, passkey)
        .await
        .unwrap()
        .id;
    let listed = world.json(&["passkeys", "list"]).await;
    assert!(listed.to_string().contains("Laptop"), "{listed}");

    world
        .json(&["passkeys", "rename", &passkey_id, "Work laptop"])
        .await;
    let listed = world.json(&["passkeys", "list"]).await;
    assert!(listed.to_string().contains("Work laptop"), "{listed}");

    // A removal with a sign-in older than the broker allows asks to confirm
    // it's you: a fresh sign-in (prompt=login), then the removal
    tokio::time::sleep(STEP_UP_MAX_AGE + Duration::from_secs(1)).await;
    let (confirm, removed) = world
        .through_the_browser(&browser, &["passkeys", "remove", &passkey_id, "--json"])
        .await;
    assert_eq!(
        removed.code,
        Some(0),
        "{}\n{}",
        removed.stdout,
        removed.stderr
    );
    assert_eq!(
        query(&confirm, "prompt").as_deref(),
        Some("login"),
        "{confirm}"
    );
    assert!(
        removed.stderr.contains("Confirm it's you"),
        "{}",
        removed.stderr
    );
    let listed = world.json(&["passkeys", "list"]).await;
    assert!(!listed.to_string().contains("Work laptop"), "{listed}");

    // And once they sign out, nothing of theirs is left in the Credential Manager
    let signed_out = run(&mut world.app(&["sign-out"])).await;
    assert_eq!(
        signed_out.code,
        Some(0),
        "{}\n{}",
        signed_out.stdout,
        signed_out.stderr
    );
    assert_eq!(
        world.credential_manager_entries().await,
        Vec::<String>::new()
    );
    let status = world.json(&["status"]).await;
    assert_ne!(status["state"], "signedIn", "{status}");
}
