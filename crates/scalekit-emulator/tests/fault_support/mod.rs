//! Shared pieces of the emulator's fault and load tests: a writer that
//! commits one row per request (a sign-in email to a fresh address: the
//! challenge and the dev-mailbox message), and checks that every write the
//! emulator acknowledged is there.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use reqwest::Client;
use scalekit_emulator::testing::{browser_client, hidden_field, mailbox};
use scalekit_emulator::DevMailbox;
use url::Url;

/// A browser with its CSRF token for the sign-in form.
pub struct Writer {
    http: Client,
    base: Url,
    csrf: String,
}

impl Writer {
    pub async fn new(base: &Url) -> Writer {
        let http = browser_client().unwrap();
        let page = http
            .get(base.join("/ui/login").unwrap())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden_field(&page, "csrf").expect("a CSRF token on the login page");
        Writer {
            http,
            base: base.clone(),
            csrf,
        }
    }

    /// Asks for a sign-in code for `email`; `Ok` once the emulator acknowledged it
    /// (the redirect to the code page comes after the commit).
    pub async fn send(&self, email: &str) -> Result<Duration, String> {
        let started = Instant::now();
        let response = self
            .http
            .post(self.base.join("/ui/login/email").unwrap())
            .timeout(Duration::from_secs(30))
            .form(&[("csrf", self.csrf.as_str()), ("email", email)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_redirection() {
            Ok(started.elapsed())
        } else {
            Err(format!("HTTP {}", response.status()))
        }
    }
}

/// Whether the dev mailbox has a message for `email`.
pub async fn delivered(dev_mailbox: &DevMailbox, email: &str) -> bool {
    let http = browser_client().unwrap();
    !mailbox(&http, dev_mailbox, email).await.unwrap().is_empty()
}

/// Checks every acknowledged address (a few at a time); returns the missing ones.
pub async fn missing(dev_mailbox: &DevMailbox, acknowledged: &[String]) -> Vec<String> {
    let mut missing = Vec::new();
    for batch in acknowledged.chunks(16) {
        let checks: Vec<_> = batch
            .iter()
            .map(|email| {
                let (dev_mailbox, email) = (dev_mailbox.clone(), email.clone());
                tokio::spawn(async move { (delivered(&dev_mailbox, &email).await, email) })
            })
            .collect();
        for check in checks {
            let (found, email) = check.await.unwrap();
            if !found {
                missing.push(email);
            }
        }
    }
    missing
}

/// The `q`-quantile of sorted durations.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
