//! Shared set-up of the OIDC and API tests: an emulator on an ephemeral port,
//! a browser-like HTTP client, and shortcuts to a signed-in user's tokens.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION};
use reqwest::{Client, Response, StatusCode};
use scalekit_emulator::db::{self, NewPasskey, StoredPasskey, User};
use scalekit_emulator::testing::{self, CodeFlow, Login};
use scalekit_emulator::{Config, DevMailbox, RunningEmulator};
use serde_json::Value;
use url::Url;

pub const NATIVE: &str = "ntvc_demo";
pub const REDIRECT: &str = "http://127.0.0.1:53682/callback";
pub const CONFIDENTIAL: &str = "skc_demo";
/// `skc_demo`'s secret in `Config::for_tests` (the binary's is random).
pub const SECRET: &str = scalekit_emulator::config::TEST_CLIENT_SECRET;
pub const ADMIN: &str = "test-admin-token";
pub const SCOPE: &str = "openid profile email offline_access";

pub struct Env {
    pub emulator: RunningEmulator,
    pub base: Url,
    /// The dev mailbox, with this run's key.
    pub mailbox: DevMailbox,
    /// Follows no redirects, keeps no cookies.
    pub http: Client,
}

/// A user signed in through a browser session, with the cookie to send.
pub struct SignedIn {
    pub user: User,
    pub session_id: String,
    pub cookie: String,
}

/// What one authorization-code flow produced.
pub struct Tokens {
    pub body: Value,
    pub code: String,
    pub verifier: String,
}

impl Tokens {
    pub fn access(&self) -> &str {
        self.body["access_token"].as_str().unwrap()
    }
    pub fn refresh(&self) -> &str {
        self.body["refresh_token"].as_str().unwrap()
    }
    pub fn id_token(&self) -> &str {
        self.body["id_token"].as_str().unwrap()
    }
}

pub fn verifier() -> String {
    format!("v-{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4())
}

impl Env {
    pub async fn start() -> Env {
        Self::start_with(Config::for_tests()).await
    }

    pub async fn start_with(config: Config) -> Env {
        let emulator = scalekit_emulator::start(config).await.unwrap();
        let base = emulator.base_url().clone();
        let mailbox = emulator.dev_mailbox();
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Env {
            emulator,
            base,
            mailbox,
            http,
        }
    }

    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }

    /// GET `path` with the test browser; its JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Creates (or finds) a user and a browser session directly in the store.
    pub async fn signed_in(&self, email: &str) -> SignedIn {
        let email = email.to_owned();
        let state = self.emulator.state();
        let user = state
            .db
            .call(move |c| db::find_or_create_user_by_email(c, &email))
            .await
            .unwrap();
        let (session, cookie) = state
            .create_browser_session(&user.id, "conn_email")
            .await
            .unwrap();
        SignedIn {
            user,
            session_id: session.id,
            cookie: format!("{}={}", cookie.name(), cookie.value()),
        }
    }

    /// The tests' code flow: the native client on [`REDIRECT`], state
    /// `st-1`, `verifier` and `extra` authorize parameters.
    pub fn flow(&self, verifier: &str, extra: &[(&str, &str)]) -> CodeFlow {
        CodeFlow::new(&self.base)
            .with_client(NATIVE, REDIRECT)
            .with_state("st-1")
            .with_verifier(verifier)
            .with_params(extra)
    }

    pub fn authorize_url(&self, verifier: &str, extra: &[(&str, &str)]) -> Url {
        self.flow(verifier, extra).authorize_url().unwrap()
    }

    /// `GET` with the session cookie.
    pub async fn get_with_cookie(&self, url: Url, who: &SignedIn) -> Response {
        self.http
            .get(url)
            .header(COOKIE, &who.cookie)
            .send()
            .await
            .unwrap()
    }

    /// Runs `/oauth/authorize` for a signed-in browser and presses
    /// "Continue as …" (the native client never gets a code without it);
    /// returns the code.
    pub async fn code_for(&self, who: &SignedIn, verifier: &str, extra: &[(&str, &str)]) -> String {
        let flow = self.flow(verifier, extra);
        let login = Login::SignedIn {
            session_cookie: Some(&who.cookie),
        };
        let callback = flow.callback(&self.http, login).await.unwrap();
        // RFC 9207: the response names the issuer.
        let issuer = self.base.as_str().trim_end_matches('/');
        assert!(
            callback
                .query_pairs()
                .any(|(k, v)| k == "iss" && v == issuer),
            "{callback}"
        );
        flow.code_from(&callback).unwrap()
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url("/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn exchange(&self, code: &str, verifier: &str) -> Response {
        self.token(&self.flow(verifier, &[]).exchange_form(code))
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", NATIVE),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// A full code flow for `who` with `extra` authorize parameters.
    pub async fn tokens_for(&self, who: &SignedIn, extra: &[(&str, &str)]) -> Tokens {
        let verifier = verifier();
        let code = self.code_for(who, &verifier, extra).await;
        let tokens = self
            .flow(&verifier, extra)
            .exchange(&self.http, &code)
            .await;
        Tokens {
            body: tokens.unwrap().body,
            code,
            verifier,
        }
    }

    /// A client-credentials token for `skc_demo`.
    pub async fn client_token(&self) -> String {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(CONFIDENTIAL, Some(SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Stores a passkey row for `user_id` (as a registration would).
    pub async fn add_passkey(&self, user_id: &str, raw_id: &[u8], name: &str) -> StoredPasskey {
        use base64::Engine as _;
        let new = NewPasskey {
            user_agent: serde_json::json!({"raw": "Mozilla/5.0", "browser": "Chrome", "os": "Linux"}),
            client_info: serde_json::json!({"ip": "127.0.0.1"}),
            ..testing::synced_platform_passkey(
                user_id,
                &base64::engine::general_purpose::STANDARD.encode(raw_id),
                "08987058-cadc-4b81-b6e1-30de50dcbe96",
                name,
            )
        };
        testing::store_passkey(&self.emulator, new).await.unwrap()
    }

    pub fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match token {
            Some(token) => request.header(AUTHORIZATION, format!("Bearer {token}")),
            None => request,
        }
    }

    /// `GET /api/v1/webauthn/credentials?user_id=…` with `token`.
    pub async fn list(&self, user_id: &str, token: &str) -> Response {
        self.api(
            reqwest::Method::GET,
            &format!("/api/v1/webauthn/credentials?user_id={user_id}"),
            Some(token),
        )
        .send()
        .await
        .unwrap()
    }

    /// `GET /userinfo` with `token`: whether a user's access token is still
    /// accepted (the management API takes no user tokens).
    pub async fn userinfo(&self, token: &str) -> Response {
        self.api(reqwest::Method::GET, "/userinfo", Some(token))
            .send()
            .await
            .unwrap()
    }

    /// `POST /oauth/introspect` of `token` by the environment client
    /// (`skc_demo`); the answer's JSON.
    pub async fn introspect(&self, token: &str) -> Value {
        let response = self
            .http
            .post(self.url("/oauth/introspect"))
            .basic_auth(CONFIDENTIAL, Some(SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// `GET /api/v1/sessions/{id}` with `token`.
    pub async fn session(&self, session_id: &str, token: &str) -> Response {
        self.api(
            reqwest::Method::GET,
            &format!("/api/v1/sessions/{session_id}"),
            Some(token),
        )
        .send()
        .await
        .unwrap()
    }
}

pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get(LOCATION)
        .expect("a Location header")
        .to_str()
        .unwrap()
}

/// Asserts an RFC 6749 error body and returns it.
pub async fn oauth_error(response: Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
    body
}

/// Asserts a grpc-gateway error body and returns it.
pub async fn api_error(
    response: Response,
    status: StatusCode,
    code: u64,
    error_code: &str,
) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string());
    assert_eq!(
        body["details"][0]["@type"],
        "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo"
    );
    assert_eq!(body["details"][0]["error_code"], error_code);
    body
}

/// Decodes a JWT with the JWKS published at `/keys`, checking signature,
/// issuer and expiry.
pub async fn verify_with_jwks(env: &Env, token: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = env.get_json("/keys").await;
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.expect("a kid");
    let jwk = jwks.find(&kid).expect("the kid is in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    validation.set_issuer(&[env.base.as_str().trim_end_matches('/')]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}
