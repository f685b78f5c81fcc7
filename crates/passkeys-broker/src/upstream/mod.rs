//! Calls to Scalekit's credentials and sessions APIs with the broker's own
//! client-credentials token (obtained, cached, refreshed single-flight).
//! The sessions calls are in [`sessions`], token introspection (with the
//! client credentials themselves) in [`introspect`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{header, Method, StatusCode};
use scalekit_wire::credential::{
    DeleteCredentialResponse, ListCredentialsResponse, UpdateCredentialRequest,
    UpdateCredentialResponse,
};
use scalekit_wire::{routes, ErrorBody, GrpcCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use crate::clock::Clock;
use crate::config::{ClientSecret, Config, TokenEndpointAuth};
use crate::discovery::Discovery;
use crate::error::{Error, Result};

mod introspect;
mod sessions;

scalekit_wire::secret_newtype! {
    /// The broker's client-credentials access token. Never printed, never
    /// logged; `.secret()` only where it goes into an `Authorization` header.
    pub AccessToken
}

struct CachedToken {
    token: AccessToken,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: Option<String>,
}

/// The environment's credentials API, as the broker's confidential client.
pub struct Upstream {
    http: reqwest::Client,
    /// Names the token endpoint (or the `token_url` setting does).
    discovery: Arc<Discovery>,
    api_base: Url,
    client_id: String,
    client_secret: ClientSecret,
    auth: TokenEndpointAuth,
    timeout: Duration,
    refresh_margin: Duration,
    clock: Arc<dyn Clock>,
    cached: tokio::sync::Mutex<Option<CachedToken>>,
    token_requests: AtomicU64,
}

impl Upstream {
    /// A client for the environment named in `config`, whose token endpoint
    /// `discovery` names.
    ///
    /// # Errors
    /// [`Error::Config`] when an endpoint URL cannot be built.
    pub(crate) fn new(
        config: &Config,
        http: reqwest::Client,
        discovery: Arc<Discovery>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        Ok(Self {
            http,
            discovery,
            api_base: config.api_base().clone(),
            client_id: config.upstream_client_id.clone(),
            client_secret: config.client_secret.clone(),
            auth: config.token_endpoint_auth,
            timeout: config.upstream_timeout,
            refresh_margin: config.token_refresh_margin,
            clock,
            cached: tokio::sync::Mutex::new(None),
            token_requests: AtomicU64::new(0),
        })
    }

    /// How many token requests this client has made (for logs and tests).
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// A valid client-credentials token: the cached one, or a new one. Only
    /// one request for a new token is in flight at a time; concurrent
    /// callers wait for it and share its result.
    ///
    /// # Errors
    /// Upstream errors when no token can be obtained.
    pub async fn token(&self) -> Result<AccessToken> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref() {
            if self.clock.now() < current.refresh_at {
                return Ok(current.token.clone());
            }
        }
        let fresh = self.request_token().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Forgets `token` if it is still the cached one (the environment refused it).
    async fn forget(&self, token: &AccessToken) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| &c.token == token) {
            *cached = None;
        }
    }

    async fn request_token(&self) -> Result<CachedToken> {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let token_url = self.discovery.endpoints().await?.token.clone();
        let form = vec![("grant_type", "client_credentials")];
        let request = self.with_client_auth(self.http.post(token_url), form);
        let requested_at = self.clock.now();
        let response = request
            .send()
            .await
            .map_err(|e| crate::http::send_error("token request", &e, self.timeout))?;
        let status = response.status();
        if !status.is_success() {
            let code = response
                .json::<OAuthError>()
                .await
                .ok()
                .and_then(|e| e.error)
                .unwrap_or_else(|| "no error code".into());
            tracing::error!(%status, error = %code, "the environment refused the broker's client credentials");
            return Err(Error::UpstreamBadResponse(format!(
                "the environment refused the broker's client credentials ({status}, {code})"
            )));
        }
        let body: TokenResponse = response.json().await.map_err(|_| {
            Error::UpstreamBadResponse("the token endpoint sent an unreadable answer".into())
        })?;
        if body.access_token.is_empty() {
            return Err(Error::UpstreamBadResponse(
                "the token endpoint sent an empty token".into(),
            ));
        }
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(60));
        let usable = if self.refresh_margin < lifetime {
            lifetime - self.refresh_margin
        } else {
            lifetime / 2
        };
        tracing::info!(
            lifetime_secs = lifetime.as_secs(),
            "obtained a client-credentials token"
        );
        Ok(CachedToken {
            token: AccessToken::new(body.access_token),
            refresh_at: requested_at + usable,
        })
    }

    /// `request` with `form` as its body, authenticated as the broker's
    /// client the way its token endpoint takes it (`token_endpoint_auth`).
    fn with_client_auth<'a>(
        &'a self,
        request: reqwest::RequestBuilder,
        mut form: Vec<(&'a str, &'a str)>,
    ) -> reqwest::RequestBuilder {
        match self.auth {
            TokenEndpointAuth::ClientSecretPost => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", self.client_secret.secret()));
                request.form(&form)
            }
            TokenEndpointAuth::ClientSecretBasic => request
                .basic_auth(
                    form_encode(&self.client_id),
                    Some(form_encode(self.client_secret.secret())),
                )
                .form(&form),
        }
    }

    /// `GET /api/v1/webauthn/credentials?user_id=…`.
    ///
    /// # Errors
    /// Upstream errors, mapped to the broker's error shape.
    pub async fn list(&self, user_id: &str) -> Result<ListCredentialsResponse> {
        let url = routes::list_credentials_url(&self.api_base, user_id).map_err(config_error)?;
        let answer = self.call(Method::GET, url, None).await?;
        ListCredentialsResponse::from_value(&answer).ok_or_else(unreadable)
    }

    /// `PATCH /api/v1/webauthn/credentials/{id}` with `{"display_name"}`.
    ///
    /// # Errors
    /// Upstream errors, mapped to the broker's error shape.
    pub async fn rename(&self, id: &str, display_name: &str) -> Result<UpdateCredentialResponse> {
        let url = self.credentials_url(Some(id))?;
        let body = UpdateCredentialRequest {
            display_name: Some(display_name.to_owned()),
        };
        typed(self.call(Method::PATCH, url, Some(body)).await?)
    }

    /// `DELETE /api/v1/webauthn/credentials/{id}`.
    ///
    /// # Errors
    /// Upstream errors, mapped to the broker's error shape.
    pub async fn remove(&self, id: &str) -> Result<DeleteCredentialResponse> {
        let url = self.credentials_url(Some(id))?;
        typed(self.call(Method::DELETE, url, None).await?)
    }

    /// `<api base>/api/v1/webauthn/credentials[/<id>]`, the id percent-encoded
    /// as one segment (the wire contract's route builder).
    fn credentials_url(&self, id: Option<&str>) -> Result<Url> {
        routes::credentials_url(&self.api_base, id).map_err(config_error)
    }

    /// One API call; a 401 makes it fetch a new token and try once more.
    /// A `POST` without `body` sends none (the revoke routes take none).
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<UpdateCredentialRequest>,
    ) -> Result<serde_json::Value> {
        let mut retried = false;
        loop {
            let token = self.token().await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.secret())
                .header(header::ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| crate::http::send_error("credentials API", &e, self.timeout))?;
            let status = response.status();
            tracing::debug!(%method, path = url.path(), %status, "upstream call");
            if status == StatusCode::UNAUTHORIZED && !retried {
                self.forget(&token).await;
                retried = true;
                continue;
            }
            return read_answer(response).await;
        }
    }
}

fn unreadable() -> Error {
    Error::UpstreamBadResponse("the credentials API sent an unreadable answer".into())
}

/// A successful answer as its wire type, read leniently: only a body that
/// is not a JSON object is unreadable.
fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    if !value.is_object() {
        return Err(unreadable());
    }
    T::deserialize(value).map_err(|_| unreadable())
}

/// Turns the environment's answer into JSON or a mapped error.
async fn read_answer(response: reqwest::Response) -> Result<serde_json::Value> {
    let status = response.status();
    if status.is_success() {
        return response.json().await.map_err(|_| unreadable());
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        tracing::error!(%status, "the environment refused the broker's token");
        return Err(Error::UpstreamBadResponse(format!(
            "the environment refused the broker's credentials ({status})"
        )));
    }
    if status.is_client_error() {
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let raw = response.bytes().await.unwrap_or_default();
        return Err(Error::UpstreamRejected {
            status: status.as_u16(),
            body: normalise_error_body(status, &raw),
            retry_after,
            api_answered: ErrorBody::from_json(&raw).is_some(),
        });
    }
    Err(Error::UpstreamBadResponse(format!(
        "the credentials API answered {status}"
    )))
}

/// The environment's grpc-gateway error body when it sent one (a `code` and
/// a `message`: [`ErrorBody::from_json`]), passed on as sent, else one built
/// from the status with the contract's table ([`GrpcCode::from_http_status`]).
fn normalise_error_body(status: StatusCode, raw: &[u8]) -> String {
    if ErrorBody::from_json(raw).is_some_and(|body| body.message.is_some()) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(raw) {
            return value.to_string();
        }
    }
    let code = GrpcCode::from_http_status(status.as_u16());
    let body = ErrorBody::new(
        code,
        format!("the Scalekit environment answered {status}"),
        code.name(),
    );
    serde_json::to_string(&body).unwrap_or_default()
}

fn config_error(error: scalekit_wire::Error) -> Error {
    Error::Config(format!("upstream_api_url: {error}"))
}

/// RFC 6749 §2.3.1: client id and secret are form-encoded before Basic auth.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_debug_is_redacted() {
        let token = AccessToken::new("eyJsecret");
        assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
        assert_eq!(token.secret(), "eyJsecret");
    }

    #[test]
    fn grpc_gateway_bodies_pass_through() {
        let raw = br#"{"code":3,"message":"display_name too long","details":[]}"#;
        let body = normalise_error_body(StatusCode::BAD_REQUEST, raw);
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["message"], "display_name too long");
    }

    #[test]
    fn other_bodies_are_wrapped_in_the_error_shape() {
        let body = normalise_error_body(StatusCode::CONFLICT, b"<html>nope</html>");
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["code"], 6);
        assert_eq!(value["details"][0]["error_code"], "ALREADY_EXISTS");
    }

    #[test]
    fn basic_auth_parts_are_form_encoded() {
        assert_eq!(form_encode("a b:c/d"), "a+b%3Ac%2Fd");
    }

    #[test]
    fn credential_ids_are_percent_encoded_in_paths() {
        let config = Config::new(
            "https://acme.scalekit.dev".parse().unwrap(),
            "ntvc_a",
            "skc_b",
            ClientSecret::new("s"),
        );
        let http = reqwest::Client::new();
        let discovery = Arc::new(Discovery::new(
            http.clone(),
            config.discovery_endpoint().unwrap(),
            config.issuer(),
            config.upstream_timeout,
            crate::discovery::Overrides::default(),
        ));
        let upstream = Upstream::new(
            &config,
            http,
            discovery,
            Arc::new(crate::clock::SystemClock),
        )
        .unwrap();
        let url = upstream.credentials_url(Some("wac_1/../x?y")).unwrap();
        assert_eq!(
            url.as_str(),
            "https://acme.scalekit.dev/api/v1/webauthn/credentials/wac_1%2F..%2Fx%3Fy"
        );
    }
}
