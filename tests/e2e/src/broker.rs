//! The passkeys broker as a child process on an ephemeral port, in front of
//! the emulator, and what its log says it served.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use url::Url;

use crate::process::{read_base_url, ChildGuard};
use crate::world::CLIENT_ID;

/// The emulator's confidential demo client, the broker's upstream client.
const UPSTREAM_CLIENT_ID: &str = "skc_demo";

/// A running broker; stopped (SIGTERM) on drop.
#[derive(Debug)]
pub struct Broker {
    base_url: Url,
    log: Arc<Mutex<Vec<String>>>,
    child: Option<ChildGuard>,
}

/// One request the broker finished, as its log reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedRequest {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The caller's user id, when their token was accepted.
    pub user_id: Option<String>,
    /// The HTTP status code.
    pub status: u16,
}

impl Broker {
    /// Starts the broker binary for the emulator at `environment_url`, for
    /// the app's client and with the emulator's confidential demo client,
    /// whose secret is in `secret_file`.
    ///
    /// # Panics
    /// When it does not start or print its base URL within the timeout.
    #[track_caller]
    pub fn start(binary: &Path, environment_url: &str, secret_file: &Path) -> Broker {
        Broker::start_with_args(binary, environment_url, secret_file, &[])
    }

    /// As [`Broker::start`], with more command-line options (e.g.
    /// `--step-up-max-age-secs 20`).
    ///
    /// # Panics
    /// As [`Broker::start`].
    #[track_caller]
    pub fn start_with_args(
        binary: &Path,
        environment_url: &str,
        secret_file: &Path,
        extra_args: &[&str],
    ) -> Broker {
        let mut command = Command::new(binary);
        command
            .args([
                "--listen",
                "127.0.0.1:0",
                "--environment-url",
                environment_url,
                "--client-id",
                CLIENT_ID,
                "--upstream-client-id",
                UPSTREAM_CLIENT_ID,
            ])
            // The secret travels in a file, never on a command line.
            .arg("--client-secret-file")
            .arg(secret_file)
            .args(extra_args)
            // One line per finished request, without colours.
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = ChildGuard::spawn("passkeys-broker", command);
        let stderr = child.take_stderr().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        // Keeps reading so that the log never fills the pipe, and shows it
        // in the test's output too.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("broker: {line}");
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        });
        let base_url = read_base_url(&mut child, "broker");
        Broker {
            base_url,
            log,
            child: Some(child),
        }
    }

    /// The base URL without the trailing slash, as a configuration value.
    pub fn base(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_owned()
    }

    /// Removes the passkey `id` with `access_token` alone, as another local
    /// program holding the app's token could: the broker's HTTP status and
    /// its `WWW-Authenticate` (empty when none).
    ///
    /// # Panics
    /// When the broker cannot be reached.
    #[track_caller]
    pub fn remove_without_proof(&self, access_token: &str, id: &str) -> (u16, String) {
        let url = self
            .base_url
            .join(&format!("api/v1/webauthn/credentials/{id}"))
            .expect("the credential path joins the base URL");
        let response = reqwest::blocking::Client::new()
            .delete(url)
            .bearer_auth(access_token)
            .send()
            .expect("DELETE the credential at the broker");
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (response.status().as_u16(), challenge)
    }

    /// The HTTP status the broker answers a listing made with `access_token`.
    ///
    /// # Panics
    /// When the broker cannot be reached.
    #[track_caller]
    pub fn list_status(&self, access_token: &str) -> u16 {
        let url = self
            .base_url
            .join("api/v1/webauthn/credentials")
            .expect("the credentials path joins the base URL");
        reqwest::blocking::Client::new()
            .get(url)
            .bearer_auth(access_token)
            .send()
            .expect("GET credentials at the broker")
            .status()
            .as_u16()
    }

    /// The log lines written so far.
    pub fn log(&self) -> Vec<String> {
        self.log
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }

    /// The requests the broker has finished so far, in order.
    pub fn served(&self) -> Vec<ServedRequest> {
        self.log()
            .iter()
            .filter_map(|line| parse_served(line))
            .collect()
    }

    /// How many times the broker obtained its own client-credentials token.
    pub fn client_tokens_obtained(&self) -> usize {
        self.log()
            .iter()
            .filter(|line| line.contains("obtained a client-credentials token"))
            .count()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.stop();
        }
    }
}

/// Reads a "request done" line of the broker's log: its span names the
/// method, path and (once authenticated) the user; the event the status.
/// String values may be quoted (`user_id="usr_…"`).
fn parse_served(line: &str) -> Option<ServedRequest> {
    let (span, event) = line.split_once("}: ")?;
    let fields = span.split_once("request{")?.1;
    let event = event.split_once("request done ")?.1;
    let field = |text: &str, name: &str| {
        text.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .map(|value| value.trim_matches('"').to_owned())
    };
    Some(ServedRequest {
        method: field(fields, "method")?,
        path: field(fields, "path")?,
        user_id: field(fields, "user_id"),
        status: field(event, "status")?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_request_is_read_from_the_log() {
        let line = "2026-11-25T13:49:24.539542Z  INFO request{request_id=3cb8 method=PATCH \
                    path=/api/v1/webauthn/credentials/cred_1 user_id=\"usr_7\"}: \
                    passkeys_broker::routes: request done status=200 OK";
        assert_eq!(
            parse_served(line),
            Some(ServedRequest {
                method: "PATCH".into(),
                path: "/api/v1/webauthn/credentials/cred_1".into(),
                user_id: Some("usr_7".into()),
                status: 200,
            })
        );
    }

    #[test]
    fn other_lines_are_not_requests() {
        let refused = "2026-11-25T13:49:24.539475Z  INFO request{request_id=3cb8 method=GET \
                       path=/api/v1/webauthn/credentials}: passkeys_broker::routes: \
                       request refused error=Token empty";
        assert_eq!(parse_served(refused), None);
        let anonymous = "2026-11-25T13:49:24.539542Z  INFO request{request_id=3cb8 method=GET \
                         path=/api/v1/webauthn/credentials}: passkeys_broker::routes: \
                         request done status=401 Unauthorized";
        assert_eq!(parse_served(anonymous).and_then(|r| r.user_id), None);
        assert_eq!(
            parse_served("2026-11-25T13:49:22Z  INFO passkeys_broker: listening"),
            None
        );
    }
}
