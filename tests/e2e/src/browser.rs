//! The "system browser": Debian's Chromium, headless, driven through
//! chromedriver, with a WebAuthn virtual authenticator; and the browser
//! command the app is configured with, which hands each URL the app opens
//! to the test instead of starting a browser of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::process::{free_port, ChildGuard};
use crate::wait::{wait_for, UI_TIMEOUT};
use crate::webdriver::Session;

/// Chromium driven through chromedriver, with one virtual authenticator.
#[derive(Debug)]
pub struct Browser {
    session: Session,
    authenticator: String,
    // Declared last: the session is deleted before chromedriver stops.
    _driver: ChildGuard,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile in
    /// `profile_dir`, and adds a ctap2 internal authenticator with resident
    /// keys and user verification.
    ///
    /// # Panics
    /// When chromedriver or Chromium do not start.
    #[track_caller]
    pub fn start(profile_dir: &Path) -> Browser {
        let port = free_port();
        let mut command = Command::new(program(
            "PASSKEYS_E2E_CHROMEDRIVER",
            "/usr/bin/chromedriver",
        ));
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let driver = ChildGuard::spawn("chromedriver", command);
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&base);
        let chromium = program("PASSKEYS_E2E_CHROMIUM", "/usr/bin/chromium");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1000,800",
                    format!("--user-data-dir={}", profile_dir.display()),
                ],
            },
            "goog:loggingPrefs": {"performance": "ALL"},
        }}});
        let session = Session::create(&base, capabilities).expect("a Chromium session");
        let authenticator = session
            .add_virtual_authenticator(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserConsenting": true,
                "isUserVerified": true,
            }))
            .expect("a virtual authenticator");
        Browser {
            session,
            authenticator,
            _driver: driver,
        }
    }

    /// The WebDriver session of the browser.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The passkeys the virtual authenticator holds.
    ///
    /// # Panics
    /// When chromedriver refuses.
    #[track_caller]
    pub fn authenticator_credentials(&self) -> Vec<Value> {
        self.session
            .virtual_credentials(&self.authenticator)
            .expect("virtual credentials")
    }

    /// From now on, pages see a browser without passkey autofill
    /// (`isConditionalMediationAvailable()` is false). Chromium's virtual
    /// authenticator answers an autofill request by itself, without the
    /// person choosing anything; with autofill off, a login page's passkey
    /// is used only when the person clicks for it.
    ///
    /// # Panics
    /// When chromedriver refuses.
    #[track_caller]
    pub fn disable_passkey_autofill(&self) {
        let source = "if (window.PublicKeyCredential) { \
                      PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false); }";
        self.session
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": source }),
            )
            .expect("add a script to new documents");
    }

    /// Waits for a redirect to a URL starting with `prefix` that the browser
    /// could not follow itself (a private-use scheme the OS would hand to
    /// the app), from chromedriver's performance log.
    ///
    /// # Panics
    /// When no such redirect shows up in time.
    #[track_caller]
    pub fn wait_for_redirect_to(&self, prefix: &str) -> String {
        wait_for(&format!("a redirect to {prefix}…"), UI_TIMEOUT, || {
            let entries = self.session.log("performance").expect("performance log");
            entries.iter().find_map(|entry| {
                let message: Value = serde_json::from_str(entry["message"].as_str()?).ok()?;
                find_string_starting_with(&message, prefix)
            })
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.session.delete();
    }
}

fn find_string_starting_with(value: &Value, prefix: &str) -> Option<String> {
    match value {
        Value::String(text) if text.starts_with(prefix) => Some(text.clone()),
        Value::Array(items) => items
            .iter()
            .find_map(|item| find_string_starting_with(item, prefix)),
        Value::Object(map) => map
            .values()
            .find_map(|item| find_string_starting_with(item, prefix)),
        _ => None,
    }
}

/// A program's path: from an environment variable, else the default.
pub fn program(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Waits until a WebDriver server answers `GET /status`.
///
/// # Panics
/// When it does not answer in time.
#[track_caller]
pub fn wait_until_ready(base: &str) {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("HTTP client");
    wait_for(
        &format!("the WebDriver server at {base}"),
        UI_TIMEOUT,
        || {
            http.get(format!("{base}/status"))
                .send()
                .ok()
                .filter(|r| r.status().is_success())
                .map(drop)
        },
    );
}

/// The browser command the app is given: a script that appends each URL
/// the app opens to a file the test reads, so that the test can take the
/// URL to Chromium (a user's browser would open it itself).
#[derive(Debug)]
pub struct UrlInbox {
    script: PathBuf,
    file: PathBuf,
    seen: std::cell::Cell<usize>,
}

impl UrlInbox {
    /// Writes the script into `dir`.
    ///
    /// # Panics
    /// When the files cannot be written.
    #[track_caller]
    pub fn create(dir: &Path) -> UrlInbox {
        use std::os::unix::fs::PermissionsExt as _;
        let file = dir.join("opened-urls.txt");
        std::fs::write(&file, "").expect("create the URL file");
        let script = dir.join("open-in-test-browser");
        let body = format!(
            "#!/bin/sh\n# The app's browser command in the end-to-end suite.\nprintf '%s\\n' \"$1\" >> '{}'\n",
            file.display()
        );
        std::fs::write(&script, body).expect("write the browser command");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        UrlInbox {
            script,
            file,
            seen: std::cell::Cell::new(0),
        }
    }

    /// The value for the app's browser command setting.
    pub fn command(&self) -> String {
        format!("{} {{url}}", self.script.display())
    }

    fn all(&self) -> Vec<String> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// How many URLs the app opened that were not taken yet.
    pub fn pending(&self) -> usize {
        self.all().len().saturating_sub(self.seen.get())
    }

    /// Waits for the next URL the app opens.
    ///
    /// # Panics
    /// When the app opens none in time.
    #[track_caller]
    pub fn next(&self, what: &str) -> String {
        let url = wait_for(
            &format!("the app to open {what} in the browser"),
            UI_TIMEOUT,
            || self.all().get(self.seen.get()).cloned(),
        );
        self.seen.set(self.seen.get() + 1);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_redirect_in_a_performance_log_message() {
        let message = json!({"message": {"method": "Network.requestWillBeSent", "params": {
            "redirectResponse": {"headers": {"location": "dev.passkeys.desktop:/callback?code=c&state=s"}},
            "request": {"url": "http://localhost:1/other"},
        }}});
        assert_eq!(
            find_string_starting_with(&message, "dev.passkeys.desktop:/callback").as_deref(),
            Some("dev.passkeys.desktop:/callback?code=c&state=s")
        );
        assert_eq!(find_string_starting_with(&message, "https://"), None);
    }

    #[test]
    fn the_url_inbox_hands_out_each_opened_url_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inbox = UrlInbox::create(dir.path());
        assert!(inbox.command().ends_with(" {url}"));
        let status = std::process::Command::new(&inbox.script)
            .arg("http://localhost:1/a?b=c&d=e")
            .status()
            .expect("run the browser command");
        assert!(status.success());
        assert_eq!(inbox.pending(), 1);
        assert_eq!(inbox.next("a URL"), "http://localhost:1/a?b=c&d=e");
        assert_eq!(inbox.pending(), 0);
    }
}
