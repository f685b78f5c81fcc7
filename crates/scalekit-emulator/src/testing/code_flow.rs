//! One authorization-code flow with PKCE S256 (RFC 6749 §4.1, RFC 7636), as
//! the app runs it against the emulator: build the authorize URL, let a
//! browser sign in on the hosted pages, take the code from the callback,
//! exchange it at `/oauth/token`. Tests, benchmarks and the broker's tests
//! all get their tokens through [`CodeFlow`]; each says only what differs
//! (client, redirect URI, scopes, `prompt`, how the browser signs in).
//!
//! ```no_run
//! use scalekit_emulator::testing::{browser_client, CodeFlow, Login};
//!
//! # async fn run(emulator: scalekit_emulator::RunningEmulator) -> scalekit_emulator::Result<()> {
//! let browser = browser_client()?;
//! let mailbox = emulator.dev_mailbox();
//! let tokens = CodeFlow::new(emulator.base_url())
//!     .with_param("prompt", "login")
//!     .tokens(&browser, Login::EmailCode("ann@example.com", &mailbox))
//!     .await?;
//! assert!(tokens.refresh_token.is_some());
//! # Ok(())
//! # }
//! ```

use reqwest::{Client, StatusCode};
use serde_json::Value;
use url::Url;

use super::{authorize_signed_in, failed, pkce_s256, send, sign_in_with_email_code};
use crate::error::Result;
use crate::DevMailbox;

/// The demo native client every emulator has (`Config::for_tests` and the
/// binary's defaults): a public client with PKCE.
pub const APP_CLIENT_ID: &str = "ntvc_demo";
/// A loopback redirect URI (RFC 8252 §7.3: any port is accepted).
pub const LOOPBACK_REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";
/// The scopes the app asks for.
pub const APP_SCOPE: &str = "openid profile email offline_access";

/// How the browser signs in on the hosted pages.
#[derive(Debug, Clone, Copy)]
pub enum Login<'a> {
    /// Types this email address and the code this dev mailbox received (the
    /// emulator sends an address at most five codes in 15 minutes). The
    /// browser must keep cookies (see [`browser_client`](super::browser_client)).
    EmailCode(&'a str, &'a DevMailbox),
    /// Already signed in: only answers "Continue as …" if the hosted page
    /// asks. `session_cookie` (`name=value`) is sent by hand when the HTTP
    /// client keeps no cookies; `None` when it does.
    SignedIn {
        /// The browser session's cookie, when the client keeps none.
        session_cookie: Option<&'a str>,
    },
}

/// One authorization-code flow: client, redirect URI, `state`, PKCE
/// verifier and extra authorize parameters. By default the app's client
/// ([`APP_CLIENT_ID`]) on [`LOOPBACK_REDIRECT_URI`] with [`APP_SCOPE`] and a
/// random `state` and verifier.
#[derive(Clone)]
pub struct CodeFlow {
    base_url: Url,
    client_id: String,
    redirect_uri: String,
    state: String,
    verifier: String,
    params: Vec<(String, String)>,
}

impl std::fmt::Debug for CodeFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeFlow")
            .field("base_url", &self.base_url.as_str())
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl CodeFlow {
    /// A flow for the app's client against the emulator at `base_url`.
    pub fn new(base_url: &Url) -> CodeFlow {
        CodeFlow {
            base_url: base_url.clone(),
            client_id: APP_CLIENT_ID.to_owned(),
            redirect_uri: LOOPBACK_REDIRECT_URI.to_owned(),
            state: uuid::Uuid::new_v4().simple().to_string(),
            verifier: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            params: Vec::new(),
        }
    }

    /// Another client and redirect URI.
    pub fn with_client(mut self, client_id: &str, redirect_uri: &str) -> CodeFlow {
        client_id.clone_into(&mut self.client_id);
        redirect_uri.clone_into(&mut self.redirect_uri);
        self
    }

    /// A chosen `state` instead of a random one.
    pub fn with_state(mut self, state: &str) -> CodeFlow {
        state.clone_into(&mut self.state);
        self
    }

    /// A chosen PKCE verifier instead of a random one (43 to 128 unreserved
    /// characters).
    pub fn with_verifier(mut self, verifier: &str) -> CodeFlow {
        verifier.clone_into(&mut self.verifier);
        self
    }

    /// One more authorize parameter (`prompt`, `nonce`, `login_hint`, …);
    /// `scope` replaces [`APP_SCOPE`].
    pub fn with_param(mut self, name: &str, value: &str) -> CodeFlow {
        self.params.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Authorize parameters, in order (`scope` among them replaces [`APP_SCOPE`]).
    pub fn with_params(self, params: &[(&str, &str)]) -> CodeFlow {
        params
            .iter()
            .fold(self, |flow, (name, value)| flow.with_param(name, value))
    }

    /// The `state` the flow sends and expects back.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The PKCE verifier.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// The `/oauth/authorize` URL: `response_type=code`, the client, the
    /// redirect URI, the scope, `state`, the S256 challenge, then the extra
    /// parameters.
    ///
    /// # Errors
    /// When the base URL cannot be joined.
    pub fn authorize_url(&self) -> Result<Url> {
        let scope = self
            .params
            .iter()
            .find(|(name, _)| name == "scope")
            .map_or(APP_SCOPE, |(_, value)| value.as_str());
        let mut url = self
            .base_url
            .join("/oauth/authorize")
            .map_err(|e| failed("URL", e))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", scope)
            .append_pair("state", &self.state)
            .append_pair("code_challenge", &pkce_s256(&self.verifier))
            .append_pair("code_challenge_method", "S256")
            .extend_pairs(self.params.iter().filter(|(name, _)| name != "scope"));
        Ok(url)
    }

    /// Runs the authorize URL in `browser`, signing in as `login` says;
    /// returns the app's callback URL (or an error redirect) without
    /// requesting it.
    ///
    /// # Errors
    /// When a page answers unexpectedly (the message says which step).
    pub async fn callback(&self, browser: &Client, login: Login<'_>) -> Result<Url> {
        let authorize = self.authorize_url()?;
        match login {
            Login::EmailCode(email, mailbox) => {
                sign_in_with_email_code(browser, &authorize, email, mailbox).await
            }
            Login::SignedIn { session_cookie } => {
                authorize_signed_in(browser, &authorize, &self.base_url, session_cookie).await
            }
        }
    }

    /// The code in `callback`, once it is checked to be this flow's answer:
    /// the redirect URI, the same `state`, no `error`.
    ///
    /// # Errors
    /// When the callback is another one, carries an error or no code.
    pub fn code_from(&self, callback: &Url) -> Result<String> {
        if !callback.as_str().starts_with(&self.redirect_uri) {
            return Err(failed("callback", format!("{callback} is not the app's")));
        }
        let param = |name: &str| {
            callback
                .query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        if let Some(error) = param("error") {
            let description = param("error_description").unwrap_or_default();
            return Err(failed("authorization", format!("{error}: {description}")));
        }
        if param("state").as_deref() != Some(self.state.as_str()) {
            return Err(failed("callback", "another state"));
        }
        param("code").ok_or_else(|| failed("callback", "no code"))
    }

    /// Signs in with `browser` and returns the authorization code.
    ///
    /// # Errors
    /// As [`CodeFlow::callback`] and [`CodeFlow::code_from`].
    pub async fn code(&self, browser: &Client, login: Login<'_>) -> Result<String> {
        self.code_from(&self.callback(browser, login).await?)
    }

    /// The token request's form for `code`: grant, client, code, redirect
    /// URI and verifier, as the app sends it.
    pub fn exchange_form<'a>(&'a self, code: &'a str) -> [(&'static str, &'a str); 5] {
        [
            ("grant_type", "authorization_code"),
            ("client_id", &self.client_id),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", &self.verifier),
        ]
    }

    /// Exchanges `code` at `/oauth/token` (the client needs no cookies).
    ///
    /// # Errors
    /// When the token endpoint cannot be reached or does not answer 200
    /// with an access token (the message has its answer).
    pub async fn exchange(&self, http: &Client, code: &str) -> Result<Tokens> {
        let token_url = self
            .base_url
            .join("/oauth/token")
            .map_err(|e| failed("URL", e))?;
        let response = send(
            http.post(token_url).form(&self.exchange_form(code)),
            "exchanging the code",
        )
        .await?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| failed("reading the token answer", e))?;
        let text = |name: &str| body[name].as_str().map(str::to_owned);
        let access_token = match (status, text("access_token")) {
            (StatusCode::OK, Some(access_token)) => access_token,
            _ => {
                return Err(failed(
                    &format!("the token endpoint answered {status}"),
                    &body,
                ))
            }
        };
        Ok(Tokens {
            code: code.to_owned(),
            access_token,
            refresh_token: text("refresh_token"),
            id_token: text("id_token"),
            body,
        })
    }

    /// The whole flow: signs in with `browser` as `login` says and exchanges
    /// the code (with the same client).
    ///
    /// # Errors
    /// As [`CodeFlow::code`] and [`CodeFlow::exchange`].
    pub async fn tokens(&self, browser: &Client, login: Login<'_>) -> Result<Tokens> {
        let code = self.code(browser, login).await?;
        self.exchange(browser, &code).await
    }
}

/// What a code exchange returned.
#[derive(Clone)]
pub struct Tokens {
    /// The authorization code that was exchanged.
    pub code: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token (with `offline_access`).
    pub refresh_token: Option<String>,
    /// The ID token (with `openid`).
    pub id_token: Option<String>,
    /// The whole JSON answer.
    pub body: Value,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> CodeFlow {
        CodeFlow::new(&Url::parse("http://localhost:4000/").unwrap())
            .with_state("st")
            .with_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    }

    #[test]
    fn the_authorize_url_is_the_apps_with_the_extra_parameters_last() {
        let url = flow()
            .with_param("prompt", "login")
            .authorize_url()
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://localhost:4000/oauth/authorize?response_type=code&client_id=ntvc_demo\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Fcallback\
             &scope=openid+profile+email+offline_access&state=st\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256&prompt=login"
        );
    }

    #[test]
    fn a_scope_parameter_replaces_the_apps_scope() {
        let url = flow()
            .with_param("scope", "openid")
            .authorize_url()
            .unwrap();
        let scopes: Vec<_> = url.query_pairs().filter(|(k, _)| k == "scope").collect();
        assert_eq!(scopes.len(), 1);
        assert_eq!(scopes[0].1, "openid");
    }

    #[test]
    fn only_this_flows_callback_gives_a_code() {
        let flow = flow();
        let callback =
            |query: &str| Url::parse(&format!("{LOOPBACK_REDIRECT_URI}?{query}")).unwrap();
        assert_eq!(flow.code_from(&callback("code=c1&state=st")).unwrap(), "c1");
        for (query, why) in [
            ("code=c1&state=other", "another state"),
            ("code=c1", "another state"),
            ("error=access_denied&state=st", "access_denied"),
            ("state=st", "no code"),
        ] {
            let error = flow.code_from(&callback(query)).unwrap_err();
            assert!(error.to_string().contains(why), "{query}: {error}");
        }
        let elsewhere = Url::parse("http://127.0.0.1:9/callback?code=c1&state=st").unwrap();
        assert!(flow.code_from(&elsewhere).is_err());
    }

    #[test]
    fn tokens_debug_redacts_everything() {
        let tokens = Tokens {
            code: "the-code".into(),
            access_token: "the-access-token".into(),
            refresh_token: None,
            id_token: None,
            body: Value::Null,
        };
        assert_eq!(format!("{tokens:?}"), "Tokens([redacted])");
    }
}
