//! Helpers that drive the hosted sign-in over HTTP, for tests and development
//! (crate feature `testing`). A `reqwest::Client` with a cookie store plays the
//! browser; codes are read from the dev mailbox, at the address its
//! [`DevMailbox`] holds. A whole authorization-code flow, to the tokens, is a
//! [`CodeFlow`].
//!
//! ```no_run
//! # async fn run(authorize_url: url::Url, emulator: scalekit_emulator::RunningEmulator) -> scalekit_emulator::Result<()> {
//! let http = scalekit_emulator::testing::browser_client()?;
//! let callback = scalekit_emulator::testing::sign_in_with_email_code(
//!     &http, &authorize_url, "ann@example.com", &emulator.dev_mailbox(),
//! ).await?;
//! assert!(callback.query_pairs().any(|(k, _)| k == "code"));
//! # Ok(())
//! # }
//! ```
#![cfg(feature = "testing")]

mod code_flow;
mod mailbox;

pub use code_flow::{CodeFlow, Login, Tokens, APP_CLIENT_ID, APP_SCOPE, LOOPBACK_REDIRECT_URI};
pub use mailbox::{follow_magic_link, latest_code, latest_link, mailbox, MailboxMessage};

use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use url::Url;

use crate::db::{self, NewPasskey, StoredPasskey};
use crate::error::{Error, Result};
use crate::{DevMailbox, RunningEmulator};

fn failed(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Internal(format!("{what}: {detail}"))
}

/// A client that acts like a browser for the hosted pages: keeps cookies and
/// follows no redirects (so the final callback URL is returned, not fetched).
///
/// # Errors
/// When the HTTP client cannot be built.
pub fn browser_client() -> Result<Client> {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| failed("building the HTTP client", e))
}

/// Signs in through the hosted pages with an email code: follows the
/// authorize redirect to the login page, submits `email`, reads the code from
/// the dev `mailbox` (which names the emulator too), submits it, and returns
/// the final `Location` (the app's callback URL with `code` and `state`, or
/// an error redirect) without requesting it. If the browser already has a session and `/oauth/authorize`
/// answers straight away, that redirect is returned; if the hosted page asks
/// "Continue as <email>?" (a native client's request with a live session),
/// it continues when the session is `email`'s and uses another account
/// otherwise.
///
/// `http` must keep cookies and follow no redirects (see [`browser_client`]).
///
/// # Errors
/// When a page answers unexpectedly (the message says which step).
pub async fn sign_in_with_email_code(
    http: &Client,
    authorize_url: &Url,
    email: &str,
    mailbox: &DevMailbox,
) -> Result<Url> {
    let base_url = mailbox.base_url();
    let response = send(http.get(authorize_url.clone()), "opening the authorize URL").await?;
    let login = redirect_target(&response, authorize_url)?;
    if !login.as_str().starts_with(base_url.as_str()) || login.path() != "/ui/login" {
        return Ok(login);
    }
    let mut page = text(
        send(http.get(login.clone()), "opening the login page").await?,
        StatusCode::OK,
    )
    .await?;
    if page.contains("id=\"continue-as\"") {
        if continue_page_email(&page).as_deref() == Some(email) {
            return submit_continue(http, &page, base_url, None).await;
        }
        let mut other = login.clone();
        other.query_pairs_mut().append_pair("account", "other");
        page = text(
            send(http.get(other), "choosing another account").await?,
            StatusCode::OK,
        )
        .await?;
    }
    let csrf = hidden_field(&page, "csrf").ok_or_else(|| failed("login page", "no CSRF token"))?;
    let mut form = vec![("csrf", csrf), ("email", email.to_owned())];
    for name in ["auth_request", "next", "mode"] {
        if let Some(value) = hidden_field(&page, name) {
            form.push((name, value));
        }
    }
    let sent = send(
        http.post(
            base_url
                .join("/ui/login/email")
                .map_err(|e| failed("URL", e))?,
        )
        .form(&form),
        "submitting the email",
    )
    .await?;
    let verify = redirect_target(&sent, base_url)?;

    let page = text(
        send(http.get(verify), "opening the code page").await?,
        StatusCode::OK,
    )
    .await?;
    let csrf = hidden_field(&page, "csrf").ok_or_else(|| failed("code page", "no CSRF token"))?;
    let challenge =
        hidden_field(&page, "challenge").ok_or_else(|| failed("code page", "no challenge"))?;
    let code = latest_code(http, mailbox, email)
        .await?
        .ok_or_else(|| failed("dev mailbox", "no code was sent"))?;
    let mut form = vec![("csrf", csrf), ("challenge", challenge), ("code", code)];
    if let Some(next) = hidden_field(&page, "next") {
        form.push(("next", next));
    }
    let verified = send(
        http.post(
            base_url
                .join("/ui/login/verify")
                .map_err(|e| failed("URL", e))?,
        )
        .form(&form),
        "submitting the code",
    )
    .await?;
    redirect_target(&verified, base_url)
}

/// The signed-in email a "Continue as" page shows.
fn continue_page_email(page: &str) -> Option<String> {
    let start = page.find("id=\"current-email\">")? + "id=\"current-email\">".len();
    let end = page[start..].find('<')? + start;
    Some(html_escape::decode_html_entities(&page[start..end]).into_owned())
}

/// Presses "Continue as …" on a hosted "Continue as" page (a live session's,
/// or a magic link's) and returns where it sends the browser (the app's
/// callback with `code` and `state`): posts the page's hidden fields to its
/// form's `action`. `cookies` is sent as the `Cookie` header when the client
/// keeps none.
async fn submit_continue(
    http: &Client,
    page: &str,
    base_url: &Url,
    cookies: Option<&str>,
) -> Result<Url> {
    let action = form_action(page).ok_or_else(|| failed("continue page", "no form"))?;
    let csrf =
        hidden_field(page, "csrf").ok_or_else(|| failed("continue page", "no CSRF token"))?;
    let mut form = vec![("csrf", csrf)];
    for name in ["auth_request", "token"] {
        if let Some(value) = hidden_field(page, name) {
            form.push((name, value));
        }
    }
    let mut request = http
        .post(base_url.join(&action).map_err(|e| failed("URL", e))?)
        .form(&form);
    if let Some(cookies) = cookies {
        request = request.header(reqwest::header::COOKIE, cookies);
    }
    let continued = send(request, "pressing Continue").await?;
    redirect_target(&continued, base_url)
}

/// The `action` of a page's first `<form method="post">`.
fn form_action(page: &str) -> Option<String> {
    let marker = "<form method=\"post\" action=\"";
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(html_escape::decode_html_entities(&page[start..end]).into_owned())
}

/// Runs `authorize_url` in a browser that is already signed in and answers
/// "Continue as …" if the hosted page asks (a native client always does):
/// returns the app's callback URL (or an error redirect) without requesting
/// it. `session_cookie` (`name=value`) is sent by hand when `http` keeps no
/// cookies; `None` when it does (see [`browser_client`]).
///
/// # Errors
/// When a page answers unexpectedly, or the browser is not signed in.
pub async fn authorize_signed_in(
    http: &Client,
    authorize_url: &Url,
    base_url: &Url,
    session_cookie: Option<&str>,
) -> Result<Url> {
    let with_cookie = |request: reqwest::RequestBuilder, cookies: Option<&str>| match cookies {
        Some(cookies) => request.header(reqwest::header::COOKIE, cookies.to_owned()),
        None => request,
    };
    let response = send(
        with_cookie(http.get(authorize_url.clone()), session_cookie),
        "opening the authorize URL",
    )
    .await?;
    let target = redirect_target(&response, authorize_url)?;
    if !target.as_str().starts_with(base_url.as_str()) || target.path() != "/ui/login" {
        return Ok(target);
    }
    let response = send(
        with_cookie(http.get(target), session_cookie),
        "opening the continue page",
    )
    .await?;
    // The page's CSRF token is bound to a cookie it sets.
    let csrf_cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(crate::hosted::csrf::CSRF_COOKIE))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let page = text(response, StatusCode::OK).await?;
    if !page.contains("id=\"continue-as\"") {
        return Err(failed("authorize", "the browser is not signed in"));
    }
    let cookies = session_cookie.map(|session| match &csrf_cookie {
        Some(csrf) => format!("{session}; {csrf}"),
        None => session.to_owned(),
    });
    submit_continue(http, &page, base_url, cookies.as_deref()).await
}

/// The PKCE S256 challenge of `verifier` (RFC 7636).
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// An `/oauth/authorize` URL for a code flow with PKCE S256, scope
/// `openid profile email offline_access`, plus `extra` parameters (`prompt`,
/// `login_hint`, `nonce`, …; a `scope` replaces the default). The URL of
/// [`CodeFlow::authorize_url`], for a test that drives the browser itself.
///
/// # Errors
/// When `base_url` cannot be joined.
pub fn authorize_url(
    base_url: &Url,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    code_verifier: &str,
    extra: &[(&str, &str)],
) -> Result<Url> {
    CodeFlow::new(base_url)
        .with_client(client_id, redirect_uri)
        .with_state(state)
        .with_verifier(code_verifier)
        .with_params(extra)
        .authorize_url()
}

/// The value of `<input type="hidden" name="{name}" value="…">` in a page,
/// HTML-unescaped.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html_escape::decode_html_entities(&html[start..start + end]).into_owned())
}

/// The CSRF token a page gives its scripts (`<main data-csrf="…">`).
pub fn page_csrf_token(html: &str) -> Option<String> {
    let marker = "data-csrf=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html_escape::decode_html_entities(&html[start..start + end]).into_owned())
}

async fn send(request: reqwest::RequestBuilder, what: &str) -> Result<Response> {
    request.send().await.map_err(|e| failed(what, e))
}

async fn text(response: Response, expected: StatusCode) -> Result<String> {
    let status = response.status();
    let url = response.url().clone();
    let body = response
        .text()
        .await
        .map_err(|e| failed("reading a page", e))?;
    if status != expected {
        return Err(failed(
            &format!("{url} answered {status}"),
            body.chars().take(300).collect::<String>(),
        ));
    }
    Ok(body)
}

/// The absolute `Location` of a redirect response.
fn redirect_target(response: &Response, base: &Url) -> Result<Url> {
    if !response.status().is_redirection() {
        return Err(failed(
            &format!(
                "{} answered {} instead of a redirect",
                response.url(),
                response.status()
            ),
            "",
        ));
    }
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| failed("redirect", "no Location header"))?;
    base.join(location)
        .map_err(|e| failed("redirect Location", e))
}

/// A passkey the way a registration on a platform authenticator with a
/// synced credential stores it (attestation `none`, transports `internal`
/// and `hybrid`, flags UP, UV, BE and BS set, passkey JSON `{}`), with no
/// user agent or client info; for seeding the store in tests.
pub fn synced_platform_passkey(
    user_id: &str,
    credential_id: &str,
    aaguid: &str,
    display_name: &str,
) -> NewPasskey {
    NewPasskey {
        user_id: user_id.to_owned(),
        credential_id: credential_id.to_owned(),
        passkey_json: "{}".into(),
        attestation_type: Some("none".into()),
        aaguid: Some(aaguid.to_owned()),
        attachment: Some("platform".into()),
        transports: vec!["internal".into(), "hybrid".into()],
        user_present: true,
        user_verified: true,
        backup_eligible: true,
        backup_state: true,
        display_name: Some(display_name.to_owned()),
        user_agent: serde_json::json!({}),
        client_info: serde_json::json!({}),
    }
}

/// Stores `passkey` in the running emulator, as a finished registration would.
///
/// # Errors
///
/// When the store refuses the row (e.g. a duplicate credential id).
pub async fn store_passkey(
    emulator: &RunningEmulator,
    passkey: NewPasskey,
) -> Result<StoredPasskey> {
    emulator
        .state()
        .db
        .call(move |c| db::insert_passkey(c, passkey))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hidden_fields_and_page_tokens() {
        let html = r#"<main data-csrf="a&amp;b"><input type="hidden" name="csrf" value="x&quot;y"><input type="hidden" name="challenge" value="ech_1">"#;
        assert_eq!(hidden_field(html, "csrf").as_deref(), Some("x\"y"));
        assert_eq!(hidden_field(html, "challenge").as_deref(), Some("ech_1"));
        assert_eq!(hidden_field(html, "next"), None);
        assert_eq!(page_csrf_token(html).as_deref(), Some("a&b"));
    }

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorize_url_has_the_code_flow_parameters() {
        let base = Url::parse("http://localhost:1/").unwrap();
        let url = authorize_url(
            &base,
            "ntvc_demo",
            "http://127.0.0.1:9/callback",
            "st",
            "verifier",
            &[("prompt", "login")],
        )
        .unwrap();
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(url.path(), "/oauth/authorize");
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert_eq!(pairs["code_challenge"], pkce_s256("verifier"));
        assert_eq!(pairs["prompt"], "login");
    }
}
