//! The HTTP surface: Scalekit's credentials routes, acting only on the
//! caller's own passkeys, the caller's own sessions ([`sessions`]), plus
//! health, readiness and the broker's own description
//! (`/.well-known/passkeys-broker`: which environment it trusts).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use scalekit_wire::credential::{ListCredentialsResponse, UpdateCredentialRequest};
use scalekit_wire::{check_display_name_length, routes, DISPLAY_NAME_MAX_CHARS};
use serde::Deserialize;
use tracing::Instrument;

use crate::auth::{bearer_token, Caller, TokenVerifier};
use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::hosts::{check_host, AllowedHosts};
use crate::jwks::KeyCache;
use crate::owned::OwnedCredentials;
use crate::rate_limit::RateLimiter;
use crate::sessions::SessionCheck;
use crate::upstream::Upstream;

/// The parts every handler uses.
pub(crate) struct Broker {
    pub(crate) verifier: TokenVerifier,
    pub(crate) keys: Arc<KeyCache>,
    pub(crate) discovery: Arc<Discovery>,
    pub(crate) upstream: Arc<Upstream>,
    pub(crate) sessions: SessionCheck,
    pub(crate) owned: OwnedCredentials,
    pub(crate) limiter: RateLimiter,
    pub(crate) max_body_bytes: usize,
    /// Set once the environment's sessions API answered `/readyz`'s probe.
    pub(crate) sessions_api_checked: tokio::sync::OnceCell<()>,
    /// How recent an authentication a destructive call needs ([`crate::step_up`]).
    pub(crate) step_up_max_age: std::time::Duration,
    /// What `/.well-known/passkeys-broker` says (nothing secret).
    pub(crate) about: About,
}

/// The broker's description at [`WELL_KNOWN_PATH`]: the issuer whose tokens
/// it accepts and the client they must be issued to, so a desktop app (its
/// `doctor`) can tell a broker set up for another environment. Nothing
/// secret, no upstream call.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct About {
    /// The environment (issuer) it trusts, without a trailing slash.
    pub(crate) issuer: String,
    /// The app's client id expected in the callers' tokens' `aud`.
    pub(crate) client_id: String,
    /// This broker's version.
    pub(crate) version: &'static str,
}

/// Where the broker describes itself (unauthenticated, behind the Host check).
pub const WELL_KNOWN_PATH: &str = "/.well-known/passkeys-broker";

mod sessions;

type AppState = Arc<Broker>;

/// The id of one request, in logs, error bodies and `x-request-id`.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(String);

/// Builds the router: every route answers only the hosts in `allowed`.
pub(crate) fn router(broker: AppState, allowed: AllowedHosts) -> Router {
    let max_body = broker.max_body_bytes;
    Router::new()
        .route(routes::CREDENTIALS_PATH, get(list_credentials))
        .route(
            routes::CREDENTIAL_PATH,
            patch(rename_credential).delete(remove_credential),
        )
        .route(routes::OWN_SESSIONS_PATH, get(sessions::list_sessions))
        .route(routes::REVOKE_SESSION_PATH, post(sessions::revoke_session))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(WELL_KNOWN_PATH, get(about))
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(with_request_id))
        .layer(middleware::from_fn_with_state(allowed, check_host))
        .with_state(broker)
}

/// Gives each request an id, a log span and an `x-request-id` header.
async fn with_request_id(mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        user_id = tracing::field::Empty,
    );
    async move {
        let mut response = next.run(request).await;
        let status = response.status();
        if status.is_server_error() {
            tracing::warn!(%status, "request failed");
        } else {
            tracing::info!(%status, "request done");
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("x-request-id", value);
        }
        response
    }
    .instrument(span)
    .await
}

/// Sends `result` as JSON, or as the error body tagged with the request id.
fn respond<T: serde::Serialize>(request_id: &RequestId, result: Result<T>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            match &error {
                Error::Internal(detail) | Error::Config(detail) => {
                    tracing::error!(%detail, "internal error");
                }
                Error::UpstreamUnreachable(_)
                | Error::UpstreamTimeout(_)
                | Error::UpstreamBadResponse(_) => tracing::warn!(%error, "upstream failure"),
                Error::UnsupportedEnvironment { .. } => {
                    tracing::warn!(%error, "the environment cannot work with this broker");
                }
                other => tracing::info!(error = %other, "request refused"),
            }
            error.into_response_with_id(Some(&request_id.0))
        }
    }
}

impl Broker {
    /// Authenticates the caller, takes one request from their allowance and
    /// checks that their session has not ended.
    async fn admit(&self, headers: &HeaderMap) -> Result<Caller> {
        let token = bearer_token(headers)?;
        let caller = self.verifier.verify(token).await?;
        self.limiter
            .check(&caller.user_id)
            .map_err(|retry_after_secs| Error::RateLimited { retry_after_secs })?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        self.sessions.ensure_live(&caller, token).await?;
        Ok(caller)
    }

    /// [`Broker::admit`], then the proof of a recent authentication a
    /// destructive call needs ([`crate::step_up`]), checked before anything
    /// is looked up, so a refusal says nothing about what exists.
    async fn admit_recently_authenticated(&self, headers: &HeaderMap) -> Result<Caller> {
        let caller = self.admit(headers).await?;
        self.verifier
            .check_recent_authentication(headers, &caller, self.step_up_max_age)
            .await?;
        Ok(caller)
    }

    /// The caller's credentials as the environment lists them, minus any
    /// that name another user (defence in depth).
    async fn own_credentials(&self, caller: &Caller) -> Result<ListCredentialsResponse> {
        let mut listing = self.upstream.list(&caller.user_id).await?;
        if let Some(credentials) = listing.credentials.as_mut() {
            credentials.retain(|credential| match credential.user_id.as_deref() {
                Some(owner) if !owner.is_empty() => owner == caller.user_id,
                _ => true,
            });
            let ids = credentials.iter().filter_map(|c| c.id.clone()).collect();
            self.owned.remember(&caller.user_id, ids);
        }
        Ok(listing)
    }

    /// Fails with [`Error::NotFound`] unless `id` is one of the caller's
    /// credentials; the same answer whether it is someone else's or nobody's.
    /// An id from the caller's own listing of the last minute needs no
    /// upstream call ([`OwnedCredentials`]).
    async fn ensure_owned(&self, caller: &Caller, id: &str) -> Result<()> {
        if self.owned.is_known(&caller.user_id, id) {
            return Ok(());
        }
        let listing = self.own_credentials(caller).await?;
        let owned = listing
            .credentials
            .iter()
            .flatten()
            .any(|c| c.id.as_deref() == Some(id));
        if owned {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}

async fn list_credentials(
    State(broker): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let caller = broker.admit(&headers).await?;
        if let Some(asked) = requested_user_id(query.as_deref()) {
            if asked != caller.user_id {
                return Err(Error::Forbidden(
                    "you can only list your own passkeys".into(),
                ));
            }
        }
        broker.own_credentials(&caller).await
    }
    .await;
    respond(&request_id, result)
}

async fn rename_credential(
    State(broker): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let caller = broker.admit(&headers).await?;
        let display_name = display_name(body, broker.max_body_bytes)?;
        broker.ensure_owned(&caller, &id).await?;
        broker.upstream.rename(&id, &display_name).await
    }
    .await;
    respond(&request_id, result)
}

async fn remove_credential(
    State(broker): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let caller = broker.admit_recently_authenticated(&headers).await?;
        broker.ensure_owned(&caller, &id).await?;
        let removed = broker.upstream.remove(&id).await;
        broker.owned.forget(&caller.user_id, &id);
        removed
    }
    .await;
    respond(&request_id, result)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `{"issuer", "client_id", "version"}`: which environment this broker serves.
async fn about(State(broker): State<AppState>) -> Json<About> {
    Json(broker.about.clone())
}

/// Ready when the environment's discovery document is this environment's,
/// its signing keys are cached, a client-credentials token can be obtained
/// and it has the sessions API (asked until it once answers). Not ready is
/// 503 with `reason`; when the environment cannot work with the broker at
/// all, also `problem` and `fix` (the setting to change). Nothing a caller
/// sends changes the answer.
async fn readyz(State(broker): State<AppState>) -> Response {
    let check = async {
        let endpoints = broker.discovery.endpoints().await?;
        broker.keys.ensure_loaded().await?;
        broker.upstream.token().await?;
        broker
            .sessions_api_checked
            .get_or_try_init(|| broker.upstream.check_sessions_api())
            .await?;
        Ok::<_, Error>(endpoints.introspection.is_some())
    }
    .await;
    match check {
        Ok(introspection) => Json(serde_json::json!({
            "status": "ready",
            "token_introspection": introspection,
        }))
        .into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            let mut body =
                serde_json::json!({ "status": "not ready", "reason": error.to_string() });
            if let Error::UnsupportedEnvironment { problem, fix } = &error {
                body["error_code"] = scalekit_wire::status::UNSUPPORTED_ENVIRONMENT.into();
                body["problem"] = problem.as_str().into();
                body["fix"] = fix.as_str().into();
            }
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

async fn no_route(Extension(request_id): Extension<RequestId>) -> Response {
    respond::<()>(&request_id, Err(Error::NoRoute))
}

/// The `user_id` query parameter, when present and not empty.
fn requested_user_id(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == routes::USER_ID_PARAM)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

/// Reads `{"display_name": "…"}` ([`UpdateCredentialRequest`]) and checks
/// Scalekit's rule on it as sent ([`check_display_name_length`]: 1 to
/// [`DISPLAY_NAME_MAX_CHARS`] characters).
fn display_name(body: std::result::Result<Bytes, BytesRejection>, limit: usize) -> Result<String> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge { limit }
        } else {
            Error::InvalidArgument {
                message: "cannot read the request body".into(),
                field: None,
            }
        }
    })?;
    let invalid = |message: &str| Error::InvalidArgument {
        message: message.into(),
        field: Some("display_name".into()),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| Error::InvalidArgument {
            message: "the body must be JSON: {\"display_name\": \"…\"}".into(),
            field: None,
        })?;
    let name = UpdateCredentialRequest::deserialize(&value)
        .ok()
        .and_then(|request| request.display_name)
        .ok_or_else(|| invalid("display_name is required"))?;
    check_display_name_length(&name).map_err(|_| {
        invalid(&format!(
            "display_name must be 1 to {DISPLAY_NAME_MAX_CHARS} characters"
        ))
    })?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_query_is_read() {
        let cases = [
            (None, None),
            (Some(""), None),
            (Some("user_id="), None),
            (Some("user_id=usr_1"), Some("usr_1")),
            (Some("a=b&user_id=usr%5F2"), Some("usr_2")),
        ];
        for (query, expected) in cases {
            assert_eq!(requested_user_id(query).as_deref(), expected, "{query:?}");
        }
    }

    #[test]
    fn display_name_rules() {
        let long = "é".repeat(DISPLAY_NAME_MAX_CHARS + 1);
        let max = "é".repeat(DISPLAY_NAME_MAX_CHARS);
        let cases: [(&str, bool); 7] = [
            (r#"{"display_name":"My key"}"#, true),
            (r#"{"display_name":""}"#, false),
            (r#"{"display_name":5}"#, false),
            (r"{}", false),
            ("not json", false),
            (&format!(r#"{{"display_name":"{max}"}}"#), true),
            (&format!(r#"{{"display_name":"{long}"}}"#), false),
        ];
        for (body, ok) in cases {
            let result = display_name(Ok(Bytes::from(body.to_owned())), 1000);
            assert_eq!(result.is_ok(), ok, "{body}");
            if let Err(error) = result {
                assert!(matches!(error, Error::InvalidArgument { .. }));
            }
        }
    }
}
