//! The crate's error type and its HTTP form: the grpc-gateway body Scalekit's
//! API uses, so the app reads the broker's errors exactly like Scalekit's.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use scalekit_wire::status::FieldViolation;
use scalekit_wire::{ErrorBody, GrpcCode};

/// Everything that can go wrong in the broker.
///
/// Messages never carry a token or a secret: they are safe to log and to
/// send to the caller.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The caller's bearer token is missing or not a valid access token of
    /// the environment.
    #[error("{0}")]
    Unauthenticated(String),
    /// The call needs a more recent authentication than the caller proved
    /// (RFC 9470): answered with a step-up challenge.
    #[error("Confirm it is you: {reason}. Sign in again (within {max_age_secs} s) and retry.")]
    StepUpRequired {
        /// How recent the authentication must be, in seconds.
        max_age_secs: u64,
        /// Why the proof was refused (nothing secret).
        reason: String,
    },
    /// The caller asked about another user.
    #[error("{0}")]
    Forbidden(String),
    /// No such credential among the caller's own.
    #[error("credential not found")]
    NotFound,
    /// No such session among the caller's own (someone else's, or none).
    #[error("session not found")]
    SessionNotFound,
    /// No route matches the request.
    #[error("no such route")]
    NoRoute,
    /// The request's `Host` is not a name this broker serves (a web page
    /// reaching it by DNS rebinding, or a misrouted request).
    #[error("this broker does not serve {0}")]
    MisdirectedRequest(String),
    /// The request itself is malformed.
    #[error("{message}")]
    InvalidArgument {
        /// What is wrong, for the caller.
        message: String,
        /// The offending field, when there is one.
        field: Option<String>,
    },
    /// The request body is larger than the configured limit.
    #[error("request body too large (at most {limit} bytes)")]
    PayloadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The caller made too many requests.
    #[error("too many requests: retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next request is allowed.
        retry_after_secs: u64,
    },
    /// The environment could not be reached (connection refused, DNS, TLS).
    #[error("the Scalekit environment is unreachable: {0}")]
    UpstreamUnreachable(String),
    /// The environment did not answer in time.
    #[error("the Scalekit environment did not answer within {0} s")]
    UpstreamTimeout(u64),
    /// The environment answered with something the broker cannot use
    /// (5xx, a malformed body, or a refusal of the broker's own credentials).
    #[error("bad answer from the Scalekit environment: {0}")]
    UpstreamBadResponse(String),
    /// The environment refused the request with a client error; its status
    /// and grpc-gateway body are passed on.
    #[error("the Scalekit environment refused the request ({status}): {body}")]
    UpstreamRejected {
        /// The environment's HTTP status (4xx).
        status: u16,
        /// The environment's error body, re-serialised.
        body: String,
        /// The environment's `Retry-After`, when it sent one.
        retry_after: Option<String>,
        /// Whether the environment sent a grpc-gateway error body (its API
        /// answered), rather than some other page (no such route there).
        api_answered: bool,
    },
    /// The environment the broker is configured for cannot work with it
    /// (it issues opaque access tokens, has no sessions API, or its
    /// discovery document does not match): a configuration error of the
    /// pairing, which signing in again cannot fix. Answered 503 with
    /// [`scalekit_wire::status::UNSUPPORTED_ENVIRONMENT`], never 401.
    #[error("the passkeys broker cannot work with its environment: {problem}. To fix it: {fix}")]
    UnsupportedEnvironment {
        /// What the environment lacks or does differently (nothing secret).
        problem: String,
        /// The setting to change, and to what.
        fix: String,
    },
    /// A bug or an unexpected local failure.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The HTTP status, gRPC code and `error_code` this error is sent with.
    /// The code is the wire contract's for the status
    /// ([`GrpcCode::from_http_status`]) except where the broker knows more:
    /// a refused `Host` is `PERMISSION_DENIED`, an upstream timeout
    /// `DEADLINE_EXCEEDED`, the upstream failures name themselves in
    /// `error_code`, and an unsupported environment is 503
    /// `FAILED_PRECONDITION` with its own `error_code`.
    fn classify(&self) -> (StatusCode, GrpcCode, &'static str) {
        let status = match self {
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::StepUpRequired { .. } => {
                return (
                    StatusCode::UNAUTHORIZED,
                    GrpcCode::Unauthenticated,
                    scalekit_wire::step_up::ERROR_CODE,
                )
            }
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound | Error::SessionNotFound | Error::NoRoute => StatusCode::NOT_FOUND,
            Error::MisdirectedRequest(_) => {
                return (
                    StatusCode::MISDIRECTED_REQUEST,
                    GrpcCode::PermissionDenied,
                    "MISDIRECTED_REQUEST",
                )
            }
            Error::InvalidArgument { .. } => StatusCode::BAD_REQUEST,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::UpstreamUnreachable(_) => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    GrpcCode::Unavailable,
                    "UPSTREAM_UNAVAILABLE",
                )
            }
            Error::UpstreamTimeout(_) => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    GrpcCode::DeadlineExceeded,
                    "UPSTREAM_TIMEOUT",
                )
            }
            Error::UpstreamBadResponse(_) => {
                return (
                    StatusCode::BAD_GATEWAY,
                    GrpcCode::Unavailable,
                    "UPSTREAM_BAD_RESPONSE",
                )
            }
            Error::UnsupportedEnvironment { .. } => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    GrpcCode::FailedPrecondition,
                    scalekit_wire::status::UNSUPPORTED_ENVIRONMENT,
                )
            }
            Error::UpstreamRejected { .. } | Error::Config(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let code = GrpcCode::from_http_status(status.as_u16());
        (status, code, code.name())
    }

    /// The grpc-gateway body for this error, tagged with the request id.
    pub(crate) fn body(&self, request_id: Option<&str>) -> ErrorBody {
        let (_, code, error_code) = self.classify();
        let message = match self {
            // Internal details go to the log, not to the caller.
            Error::Internal(_) | Error::Config(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let mut body = ErrorBody::new(code, message, error_code);
        if let Some(id) = request_id {
            body = body.with_request_id(id);
        }
        match self {
            Error::InvalidArgument {
                message,
                field: Some(field),
            } => {
                body.with_field_violation(FieldViolation::new(field.clone(), message.clone(), None))
            }
            _ => body,
        }
    }

    /// The HTTP response for this error, tagged with the request id.
    pub(crate) fn into_response_with_id(self, request_id: Option<&str>) -> Response {
        if let Error::UpstreamRejected {
            status,
            body,
            retry_after,
            ..
        } = &self
        {
            return upstream_rejection_response(*status, body, retry_after.as_deref());
        }
        let (status, _, _) = self.classify();
        let mut response = (status, axum::Json(self.body(request_id))).into_response();
        let headers = response.headers_mut();
        match &self {
            Error::Unauthenticated(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            Error::StepUpRequired { max_age_secs, .. } => {
                if let Ok(value) =
                    HeaderValue::from_str(&scalekit_wire::step_up::challenge(*max_age_secs))
                {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            Error::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

fn upstream_rejection_response(status: u16, body: &str, retry_after: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_owned(),
    )
        .into_response();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.into_response_with_id(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_grpc_gateway_shape() {
        let body =
            serde_json::to_value(Error::Unauthenticated("Token empty".into()).body(Some("req-1")))
                .unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "code": 16,
                "message": "Token empty",
                "details": [{
                    "@type": "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo",
                    "error_code": "UNAUTHENTICATED",
                    "request_info": {"request_id": "req-1"}
                }]
            })
        );
    }

    #[test]
    fn statuses_match_the_error_kinds() {
        let cases = [
            (Error::Unauthenticated("x".into()), 401, 16),
            (Error::Forbidden("x".into()), 403, 7),
            (Error::NotFound, 404, 5),
            (Error::SessionNotFound, 404, 5),
            (
                Error::InvalidArgument {
                    message: "x".into(),
                    field: None,
                },
                400,
                3,
            ),
            (
                Error::RateLimited {
                    retry_after_secs: 3,
                },
                429,
                8,
            ),
            (Error::UpstreamUnreachable("x".into()), 503, 14),
            (Error::UpstreamTimeout(10), 503, 4),
            (Error::UpstreamBadResponse("x".into()), 502, 14),
            (Error::Internal("x".into()), 500, 13),
            (Error::PayloadTooLarge { limit: 1 }, 413, 3),
            (Error::MisdirectedRequest("x".into()), 421, 7),
            (
                Error::UnsupportedEnvironment {
                    problem: "x".into(),
                    fix: "y".into(),
                },
                503,
                9,
            ),
        ];
        for (error, status, code) in cases {
            let (got_status, got_code, _) = error.classify();
            assert_eq!(got_status.as_u16(), status, "{error:?}");
            assert_eq!(got_code.code(), code, "{error:?}");
        }
    }

    #[test]
    fn internal_details_are_not_sent_to_the_caller() {
        let body = Error::Internal("database path /secret/place".into()).body(None);
        assert_eq!(body.message.as_deref(), Some("internal error"));
    }

    #[test]
    fn rate_limited_response_carries_retry_after() {
        let response = Error::RateLimited {
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn step_up_response_carries_the_rfc_9470_challenge() {
        let response = Error::StepUpRequired {
            max_age_secs: 300,
            reason: "your last sign-in is too old for this".into(),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap();
        assert_eq!(
            scalekit_wire::step_up::parse_challenge(challenge),
            Some(300)
        );
        let body = Error::StepUpRequired {
            max_age_secs: 300,
            reason: "x".into(),
        }
        .body(None);
        assert_eq!(body.code, Some(16));
    }

    #[test]
    fn unauthenticated_response_carries_www_authenticate() {
        let response = Error::Unauthenticated("x".into()).into_response();
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
    }
}
