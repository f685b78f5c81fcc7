//! The Scalekit emulator as a child process on an ephemeral port with a
//! fresh data file, and the parts of its HTTP API the suite asserts on.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::process::{read_first_lines, ChildGuard};
use crate::wait::{poll, Deadline};

/// The confidential demo client that may use the client-credentials grant.
const ADMIN_CLIENT_ID: &str = "skc_demo";

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    binary: PathBuf,
    data_file: PathBuf,
    secret_file: PathBuf,
    base_url: Url,
    /// The dev mailbox's address, with this run's key (the emulator prints
    /// it to the one who started it; the app shows it in its window).
    mailbox_url: Url,
    child: Option<ChildGuard>,
    http: reqwest::blocking::Client,
}

impl Emulator {
    /// Starts the emulator binary with a fresh data file in `dir`, and the
    /// secret of its confidential demo client in a file there (created by
    /// the emulator, readable by its owner only), as the app starts it.
    ///
    /// # Panics
    /// When it does not start or print its base URL within the timeout.
    #[track_caller]
    pub fn start(binary: &Path, dir: &Path) -> Emulator {
        let data_file = dir.join("emulator.db");
        let secret_file = dir.join("broker-client-secret");
        let (child, base_url, mailbox_url) =
            launch(binary, &data_file, &secret_file, "127.0.0.1:0");
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Emulator {
            binary: binary.to_owned(),
            data_file,
            secret_file,
            base_url,
            mailbox_url,
            child: Some(child),
            http,
        }
    }

    /// An emulator someone else started (the app, on a first run), at
    /// `base_url`, with its dev mailbox at `mailbox_url` (as the app shows
    /// it) and its confidential client's secret in `secret_file`. Never
    /// stopped by this handle.
    pub fn attach(base_url: Url, mailbox_url: Url, secret_file: PathBuf) -> Emulator {
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Emulator {
            binary: PathBuf::new(),
            data_file: PathBuf::new(),
            secret_file,
            base_url,
            mailbox_url,
            child: None,
            http,
        }
    }

    /// The base URL (issuer, WebAuthn origin), e.g. `http://localhost:PORT`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The base URL without the trailing slash, as a configuration value.
    pub fn base(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_owned()
    }

    /// Stops the emulator (its data file stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.stop();
        }
        // Stopped means refusing connections, as a user would notice.
        let stopped = poll(Deadline::after(Duration::from_secs(10)), || {
            self.http
                .get(self.url("/.well-known/openid-configuration"))
                .send()
                .is_err()
                .then_some(())
        });
        assert!(
            stopped.is_some(),
            "the emulator still answers after being stopped"
        );
    }

    /// Starts the emulator again on the same port with the same data file.
    ///
    /// # Panics
    /// When it does not come back.
    #[track_caller]
    pub fn restart(&mut self) {
        assert!(
            self.child.is_none(),
            "restart: the emulator is still running"
        );
        let port = self.base_url.port().expect("the base URL has a port");
        let (child, base_url, mailbox_url) = launch(
            &self.binary,
            &self.data_file,
            &self.secret_file,
            &format!("127.0.0.1:{port}"),
        );
        assert_eq!(
            base_url, self.base_url,
            "the emulator came back at another address"
        );
        self.child = Some(child);
        // A new key at each start.
        self.mailbox_url = mailbox_url;
    }

    /// The file holding the confidential demo client's secret (for the broker).
    pub fn secret_file(&self) -> &Path {
        &self.secret_file
    }

    fn url(&self, path: &str) -> Url {
        self.base_url.join(path).expect("a path joins the base URL")
    }

    /// The messages of the dev mailbox for `email`, newest first.
    ///
    /// # Panics
    /// When the emulator does not answer with the mailbox JSON.
    #[track_caller]
    pub fn mailbox(&self, email: &str) -> Vec<Value> {
        let mut url = self.mailbox_url.clone();
        url.query_pairs_mut().append_pair("email", email);
        let body: Value = self
            .http
            .get(url)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .expect("GET the dev mailbox");
        body["messages"].as_array().cloned().unwrap_or_default()
    }

    /// A client-credentials access token of the confidential demo client.
    ///
    /// # Panics
    /// When the token endpoint refuses.
    #[track_caller]
    pub fn admin_token(&self) -> String {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", ADMIN_CLIENT_ID),
                ("client_secret", self.client_secret().as_str()),
            ])
            .send()
            .expect("POST /oauth/token");
        let status = response.status();
        let body: Value = response.json().expect("token response JSON");
        assert!(
            status.is_success(),
            "client-credentials grant refused: {status} {body}"
        );
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// The confidential demo client's secret, read from its file.
    fn client_secret(&self) -> String {
        std::fs::read_to_string(&self.secret_file)
            .expect("the emulator wrote its client secret file")
            .trim()
            .to_owned()
    }

    /// The session `session_id` as the sessions API describes it
    /// (`GET /api/v1/sessions/{id}`), e.g. its `status`.
    ///
    /// # Panics
    /// When the API does not answer with JSON.
    #[track_caller]
    pub fn session(&self, session_id: &str) -> Value {
        let response = self
            .http
            .get(self.url(&format!("/api/v1/sessions/{session_id}")))
            .bearer_auth(self.admin_token())
            .send()
            .expect("GET session");
        response.json().expect("session JSON")
    }

    /// The user's passkeys as the credentials API lists them.
    ///
    /// # Panics
    /// When the API refuses.
    #[track_caller]
    pub fn credentials(&self, user_id: &str) -> Vec<Value> {
        let mut url = self.url("/api/v1/webauthn/credentials");
        url.query_pairs_mut().append_pair("user_id", user_id);
        let response = self
            .http
            .get(url)
            .bearer_auth(self.admin_token())
            .send()
            .expect("GET credentials");
        let status = response.status();
        let body: Value = response.json().expect("credentials JSON");
        assert!(
            status.is_success(),
            "credentials API refused: {status} {body}"
        );
        body["credentials"].as_array().cloned().unwrap_or_default()
    }

    /// Introspects a token (RFC 7662) as the environment's confidential
    /// client, the way a backend does (introspection needs a client's
    /// credentials), returning the answer (`{"active": false}` for a revoked
    /// or used token).
    ///
    /// # Panics
    /// When the endpoint refuses.
    #[track_caller]
    pub fn introspect(&self, token: &str) -> Value {
        let secret = self.client_secret();
        let response = self
            .http
            .post(self.url("/oauth/introspect"))
            .form(&[
                ("client_id", ADMIN_CLIENT_ID),
                ("client_secret", secret.as_str()),
                ("token", token),
            ])
            .send()
            .expect("POST /oauth/introspect");
        let status = response.status();
        let body: Value = response.json().expect("introspection JSON");
        assert!(
            status.is_success(),
            "introspection refused: {status} {body}"
        );
        body
    }

    /// Tries a refresh-token grant as the app's client would, returning the
    /// HTTP status and the body (a revoked token gets `invalid_grant`).
    ///
    /// # Panics
    /// When the emulator cannot be reached.
    #[track_caller]
    pub fn try_refresh(&self, client_id: &str, refresh_token: &str) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("refresh_token", refresh_token),
            ])
            .send()
            .expect("POST /oauth/token");
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.stop();
        }
    }
}

/// Starts the binary; returns it, its base URL and its dev mailbox's
/// address (its first two lines).
fn launch(
    binary: &Path,
    data_file: &Path,
    secret_file: &Path,
    listen: &str,
) -> (ChildGuard, Url, Url) {
    let mut command = Command::new(binary);
    command
        .args(["--listen", listen, "--passkeys", "on", "--data"])
        .arg(data_file)
        .arg("--client-secret-file")
        .arg(secret_file)
        // Warnings and errors only, without colours, in the test's output.
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = ChildGuard::spawn("scalekit-emulator", command);
    // Keeps reading so that the mailbox lines never fill the pipe.
    let [base_url, mailbox_url] = read_first_lines::<2>(&mut child, "emulator");
    let parse =
        |line: &str| Url::parse(line.trim()).unwrap_or_else(|e| panic!("{line:?} is no URL: {e}"));
    (child, parse(&base_url), parse(&mailbox_url))
}
