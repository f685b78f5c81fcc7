//! Shared set-up of the hosted-page tests: an emulator on an ephemeral port and
//! a cookie-keeping HTTP client that follows no redirects (the "browser").
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use scalekit_emulator::testing::{self, CodeFlow, Login};
use scalekit_emulator::{Config, DevMailbox, RunningEmulator};
use url::Url;

/// The demo native client and a loopback redirect URI (any port is allowed).
pub const CLIENT: &str = "ntvc_demo";
pub const REDIRECT: &str = "http://127.0.0.1:45678/callback";
pub const VERIFIER: &str = "hosted-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

pub struct Env {
    pub emulator: RunningEmulator,
    pub base: Url,
    /// The dev mailbox, with this run's key.
    pub mailbox: DevMailbox,
    pub http: Client,
}

impl Env {
    pub async fn start() -> Env {
        Self::start_with(Config::for_tests()).await
    }

    pub async fn start_with(config: Config) -> Env {
        let emulator = scalekit_emulator::start(config).await.unwrap();
        let base = emulator.base_url().clone();
        let mailbox = emulator.dev_mailbox();
        Env {
            emulator,
            base,
            mailbox,
            http: testing::browser_client().unwrap(),
        }
    }

    /// A second, cookie-less browser.
    pub fn other_browser(&self) -> Client {
        testing::browser_client().unwrap()
    }

    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }

    /// The tests' code flow: [`CLIENT`] on [`REDIRECT`] with [`VERIFIER`],
    /// `state` and `extra` authorize parameters.
    pub fn flow(&self, state: &str, extra: &[(&str, &str)]) -> CodeFlow {
        CodeFlow::new(&self.base)
            .with_client(CLIENT, REDIRECT)
            .with_state(state)
            .with_verifier(VERIFIER)
            .with_params(extra)
    }

    pub fn authorize_url(&self, state: &str, extra: &[(&str, &str)]) -> Url {
        self.flow(state, extra).authorize_url().unwrap()
    }

    /// Signs up / in with an email code and returns the callback URL.
    pub async fn sign_in(&self, email: &str, state: &str) -> Url {
        self.flow(state, &[])
            .callback(&self.http, Login::EmailCode(email, &self.mailbox))
            .await
            .unwrap()
    }

    /// GET that must answer 200; returns the body.
    pub async fn page(&self, url: impl reqwest::IntoUrl) -> String {
        let response = self.http.get(url).send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Follows `/oauth/authorize` to the login page; returns its URL and body.
    pub async fn login_page(&self, authorize: &Url) -> (Url, String) {
        let response = self.http.get(authorize.clone()).send().await.unwrap();
        let login = location(&response, &self.base);
        assert_eq!(login.path(), "/ui/login", "authorize went to {login}");
        let body = self.page(login.clone()).await;
        (login, body)
    }

    /// POSTs `form` to `path` from this browser.
    pub async fn post_form(&self, path: &str, form: &[(&str, String)]) -> Response {
        self.http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Submits the email form of a login page (its CSRF token and sign-in
    /// request) with `email`.
    pub async fn submit_email(&self, login_page: &str, email: &str) -> Response {
        let mut form = hidden_fields(login_page, &["csrf", "auth_request"]);
        form.push(("email", email.to_owned()));
        self.post_form("/ui/login/email", &form).await
    }

    /// Submits the form of a code page (its CSRF token and challenge) with `code`.
    pub async fn submit_code(&self, code_page: &str, code: &str) -> Response {
        let mut form = hidden_fields(code_page, &["csrf", "challenge"]);
        form.push(("code", code.to_owned()));
        self.post_form("/ui/login/verify", &form).await
    }

    pub async fn set_passkeys(&self, enabled: bool) {
        let response = self
            .http
            .put(self.url("/_admin/passkeys"))
            .bearer_auth("test-admin-token")
            .json(&serde_json::json!({"enabled": enabled}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
}

/// The absolute `Location` of a redirect.
pub fn location(response: &Response, base: &Url) -> Url {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    let value = response
        .headers()
        .get(LOCATION)
        .expect("Location")
        .to_str()
        .unwrap();
    base.join(value).unwrap()
}

/// The named hidden fields of a page, in order, as a form sends them back.
pub fn hidden_fields<'a>(html: &str, names: &[&'a str]) -> Vec<(&'a str, String)> {
    names
        .iter()
        .map(|&name| (name, testing::hidden_field(html, name).unwrap()))
        .collect()
}

/// A query parameter of a URL.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `Set-Cookie` header that sets `name`.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// Exchanges a code for tokens with the test PKCE verifier.
pub async fn exchange(env: &Env, code: &str) -> serde_json::Value {
    let flow = env.flow("", &[]);
    flow.exchange(&env.http, code).await.unwrap().body
}

/// The claims of a JWT, without checking its signature (tests only).
pub fn claims(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
