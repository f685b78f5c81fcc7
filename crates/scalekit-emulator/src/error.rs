//! The crate's error type and how it is rendered: an HTML page for browser
//! routes ([`Error`] itself), the grpc-gateway body for the REST API
//! ([`ApiErrorResponse`], built with `scalekit_wire`'s [`ErrorBody`] and its
//! one HTTP status to gRPC code table) and RFC 6749 JSON for the token
//! endpoints ([`OAuthError`]).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use scalekit_wire::status::FieldViolation;
use scalekit_wire::{ErrorBody, GrpcCode};
use serde_json::json;

/// Everything that can go wrong in the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A schema migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// Reading a file or binding a socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The port is free on one loopback address but another program holds
    /// it on another address `localhost` resolves to.
    #[error("{0}")]
    AddressTaken(String),
    /// Signing or parsing a JWT failed.
    #[error("token error: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// A signing key could not be made or read.
    #[error("signing key error: {0}")]
    Key(String),
    /// A WebAuthn ceremony failed.
    #[error("WebAuthn error: {0}")]
    WebAuthn(String),
    /// The request is malformed (400, OAuth `invalid_request`).
    #[error("{0}")]
    InvalidRequest(String),
    /// Client authentication failed or the client is unknown (401, `invalid_client`).
    #[error("{0}")]
    InvalidClient(String),
    /// A code, refresh token or PKCE verifier is wrong, used or expired (400, `invalid_grant`).
    #[error("{0}")]
    InvalidGrant(String),
    /// The client may not use this grant (400, `unauthorized_client`).
    #[error("{0}")]
    UnauthorizedClient(String),
    /// The grant type is not supported (400, `unsupported_grant_type`).
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// A requested scope is not allowed (400, `invalid_scope`).
    #[error("{0}")]
    InvalidScope(String),
    /// No or a bad bearer token / session (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed to touch this (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing with that id (404).
    #[error("{0}")]
    NotFound(String),
    /// A field has an invalid value (400 with a field violation).
    #[error("{field}: {description}")]
    Validation {
        /// The field name, e.g. `display_name`.
        field: String,
        /// What is wrong.
        description: String,
        /// The rule, e.g. `string.min_len`.
        constraint: String,
    },
    /// The thing exists but is not in a state the call needs, e.g. revoking
    /// a session that already ended (400, `FAILED_PRECONDITION`).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The request conflicts with existing data (409).
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than the limit (413).
    #[error("request body too large")]
    PayloadTooLarge,
    /// A bug or an unexpected state (500).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_)
            | Self::InvalidGrant(_)
            | Self::UnauthorizedClient(_)
            | Self::UnsupportedGrantType(_)
            | Self::InvalidScope(_)
            | Self::Validation { .. }
            | Self::FailedPrecondition(_) => StatusCode::BAD_REQUEST,
            Self::InvalidClient(_) | Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::WebAuthn(_) => StatusCode::BAD_REQUEST,
            Self::Database(_)
            | Self::Migration(_)
            | Self::Io(_)
            | Self::Config(_)
            | Self::AddressTaken(_)
            | Self::Jwt(_)
            | Self::Key(_)
            | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message safe to show a client: internal details stay in the log.
    pub fn public_message(&self) -> String {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "request failed");
            "internal error".to_owned()
        } else {
            self.to_string()
        }
    }

    /// The gRPC status code for the grpc-gateway body (the wire
    /// contract's one table, [`GrpcCode::from_http_status`], except for
    /// [`Error::FailedPrecondition`], which shares 400 with others).
    fn grpc_code(&self) -> GrpcCode {
        match self {
            Self::FailedPrecondition(_) => GrpcCode::FailedPrecondition,
            _ => GrpcCode::from_http_status(self.status().as_u16()),
        }
    }

    /// The RFC 6749 `error` code.
    fn oauth_code(&self) -> &'static str {
        match self {
            Self::InvalidClient(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::Unauthenticated(_) => "invalid_token",
            e if e.status().is_server_error() => "server_error",
            _ => "invalid_request",
        }
    }
}

/// Browser routes: a small HTML error page.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.public_message();
        (status, error_page(status, &message)).into_response()
    }
}

/// A minimal, self-contained HTML page for an error the browser shows.
pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    let title = status.canonical_reason().unwrap_or("Error");
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem\">\
         <h1>{title}</h1><p id=\"error-message\">{}</p></body></html>",
        html_escape::encode_text(message)
    ))
}

/// An [`Error`] as the REST API answers it: the grpc-gateway body
/// ([`ErrorBody`]). (The client core's `ApiError` is the other end: such a
/// body, parsed.)
#[derive(Debug)]
pub struct ApiErrorResponse(pub Error);

impl<E: Into<Error>> From<E> for ApiErrorResponse {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl ApiErrorResponse {
    /// The grpc-gateway body for this error.
    pub fn body(&self) -> ErrorBody {
        let code = self.0.grpc_code();
        let body = ErrorBody::new(code, self.0.public_message(), code.name());
        match &self.0 {
            Error::Validation {
                field,
                description,
                constraint,
            } => body.with_field_violation(FieldViolation::new(
                field.clone(),
                description.clone(),
                Some(constraint.clone()),
            )),
            _ => body,
        }
    }
}

impl IntoResponse for ApiErrorResponse {
    fn into_response(self) -> Response {
        (self.0.status(), axum::Json(self.body())).into_response()
    }
}

/// An [`Error`] rendered as RFC 6749 §5.2 JSON, with `Cache-Control: no-store`.
#[derive(Debug)]
pub struct OAuthError(pub Error);

impl<E: Into<Error>> From<E> for OAuthError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body =
            json!({"error": self.0.oauth_code(), "error_description": self.0.public_message()});
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if matches!(self.0, Error::Unauthenticated(_)) {
                "Bearer error=\"invalid_token\""
            } else {
                "Basic realm=\"scalekit-emulator\""
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (Error::Unauthenticated("x".into()), 401, 16, "invalid_token"),
            (Error::Forbidden("x".into()), 403, 7, "invalid_request"),
            (Error::NotFound("x".into()), 404, 5, "invalid_request"),
            (Error::InvalidGrant("x".into()), 400, 3, "invalid_grant"),
            (Error::InvalidClient("x".into()), 401, 16, "invalid_client"),
            (Error::Internal("x".into()), 500, 13, "server_error"),
            (
                Error::FailedPrecondition("x".into()),
                400,
                9,
                "invalid_request",
            ),
        ];
        for (error, status, grpc, oauth) in cases {
            assert_eq!(error.status().as_u16(), status);
            assert_eq!(error.grpc_code().code(), grpc);
            assert_eq!(error.oauth_code(), oauth);
        }
    }

    #[test]
    fn api_bodies_read_back_as_the_wire_contract() {
        // A too-large body is INVALID_ARGUMENT, as the broker says too.
        let body = ApiErrorResponse(Error::PayloadTooLarge).body();
        assert_eq!(body.code, Some(3));
        assert_eq!(body.error_code(), Some("INVALID_ARGUMENT"));
        let body = ApiErrorResponse(Error::Validation {
            field: "display_name".into(),
            description: "too long".into(),
            constraint: "string.max_len".into(),
        })
        .body();
        let text = serde_json::to_string(&body).unwrap();
        assert_eq!(ErrorBody::from_json(text.as_bytes()), Some(body.clone()));
        assert_eq!(
            body.field_violations()
                .next()
                .and_then(|v| v.constraint.as_deref()),
            Some("string.max_len")
        );
    }

    #[test]
    fn internal_details_are_not_shown() {
        assert_eq!(
            Error::Internal("secret detail".into()).public_message(),
            "internal error"
        );
    }

    #[test]
    fn error_page_escapes_html() {
        let page = error_page(StatusCode::BAD_REQUEST, "<script>").0;
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
    }
}
