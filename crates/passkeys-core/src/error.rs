//! The crate's one error type, and the `{"kind","message"}` shape the UI receives.

use serde::Serialize;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the client core.
///
/// Messages say what happened and what to do; they never contain a token, an
/// authorization code or a PKCE verifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is missing or wrong.
    #[error("{0}")]
    Config(String),
    /// Input from the user or from a link was refused before anything was sent.
    #[error("{0}")]
    InvalidInput(String),
    /// There is no session: the user has to sign in.
    #[error("You are not signed in. Sign in to continue.")]
    SignInRequired,
    /// The session could not be refreshed; the keychain entry was purged.
    #[error("Your session expired. Sign in again.")]
    SessionExpired,
    /// The sign-in was cancelled.
    #[error("Sign-in was cancelled.")]
    Cancelled,
    /// Something did not finish in time.
    #[error("{0}")]
    Timeout(String),
    /// The server could not be reached.
    #[error("{0}")]
    Network(String),
    /// The identity provider answered the sign-in with `error=` (for example `access_denied`).
    #[error("Sign-in failed: {description} ({error})")]
    Authorization {
        /// The OAuth error code, e.g. `access_denied`.
        error: String,
        /// The provider's `error_description`, or a generic text.
        description: String,
    },
    /// A server (token endpoint, discovery, ...) answered with something unexpected.
    #[error("{message}")]
    Server {
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// What happened, for people.
        message: String,
    },
    /// The passkeys API refused a request (grpc-gateway error body).
    #[error("{}", .0.message)]
    Api(Box<ApiError>),
    /// The system keychain is locked, missing or failed.
    #[error("{0}")]
    Keychain(String),
    /// No passkeys broker is configured (`api_url`), so passkeys cannot be
    /// listed, renamed or removed here; nothing was sent. The UI offers the
    /// environment's own page instead ([`crate::Client::manage_passkeys_url`]).
    #[error("Managing passkeys here needs your organisation's passkeys broker, which is not configured. You can manage your passkeys in the browser.")]
    PasskeysBrokerMissing,
    /// The call needs a recent authentication (the broker's RFC 9470
    /// challenge): confirm it is you ([`crate::Client::confirm_identity`])
    /// and try again. Nothing was changed.
    #[error("Confirm it's you: sign in again in your browser to do this. Nothing was changed.")]
    ReauthenticationRequired {
        /// How recent the authentication must be, in seconds (the
        /// challenge's `max_age`).
        max_age_secs: u64,
    },
    /// A fixed loopback port is already taken.
    #[error("Port {port} on 127.0.0.1 is already in use, so the sign-in cannot receive the browser's answer. Close the program using it or configure another port.")]
    PortInUse {
        /// The configured port.
        port: u16,
    },
    /// A bug or an impossible state.
    #[error("Internal error: {0}")]
    Internal(String),
}

/// A passkeys API error, parsed from the grpc-gateway error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// gRPC status code from the body, when present.
    pub code: Option<i64>,
    /// The server's message, or a generic text for the status.
    pub message: String,
    /// `ErrorInfo.error_code`, e.g. `UNAUTHENTICATED`.
    pub error_code: Option<String>,
    /// `validation_error_info.field_violations`.
    pub field_violations: Vec<FieldViolation>,
}

/// One entry of `validation_error_info.field_violations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldViolation {
    /// The field, e.g. `display_name`.
    pub field: String,
    /// What is wrong with it.
    pub description: String,
    /// The rule that failed, when given.
    pub constraint: Option<String>,
}

/// What kind of error this is, so the UI can act on it (serialised camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Sign in first.
    SignInRequired,
    /// Signed out because the refresh failed; sign in again.
    SessionExpired,
    /// The server could not be reached.
    Network,
    /// The server failed or answered unexpectedly.
    Server,
    /// The identity provider refused the sign-in (`error=` on the callback).
    SignInFailed,
    /// Input refused.
    InvalidInput,
    /// The keychain is locked or unavailable.
    Keychain,
    /// Cancelled by the user.
    Cancelled,
    /// Did not finish in time.
    Timeout,
    /// The thing does not exist (any more).
    NotFound,
    /// Not allowed.
    Forbidden,
    /// Configuration problem.
    Config,
    /// No passkeys broker is configured: manage passkeys in the browser.
    PasskeysBrokerMissing,
    /// Confirm it is you (authenticate again), then retry.
    ReauthenticationRequired,
    /// A bug.
    Internal,
}

impl Error {
    /// The [`ErrorKind`] the UI acts on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) | Error::PortInUse { .. } => ErrorKind::Config,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::SignInRequired => ErrorKind::SignInRequired,
            Error::SessionExpired => ErrorKind::SessionExpired,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Network(_) => ErrorKind::Network,
            Error::Authorization { .. } => ErrorKind::SignInFailed,
            Error::Server { .. } => ErrorKind::Server,
            Error::Api(api) => match api.status {
                400 | 409 | 422 => ErrorKind::InvalidInput,
                401 => ErrorKind::SignInRequired,
                403 => ErrorKind::Forbidden,
                404 => ErrorKind::NotFound,
                _ => ErrorKind::Server,
            },
            Error::Keychain(_) => ErrorKind::Keychain,
            Error::PasskeysBrokerMissing => ErrorKind::PasskeysBrokerMissing,
            Error::ReauthenticationRequired { .. } => ErrorKind::ReauthenticationRequired,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// A network error for `what` ("the sign-in server", ...), without URLs or bodies.
    pub(crate) fn network(what: &str, err: &reqwest::Error) -> Error {
        if err.is_timeout() {
            // `what` starts a sentence here ("the sign-in server" -> "The sign-in server").
            let mut letters = what.chars();
            let first: String = letters
                .next()
                .map(char::to_uppercase)
                .into_iter()
                .flatten()
                .collect();
            return Error::Timeout(format!(
                "{first}{} did not answer in time. Try again.",
                letters.as_str()
            ));
        }
        let detail = err.without_url_ref();
        Error::Network(format!(
            "Could not reach {what}: {detail}. Check your connection and try again."
        ))
    }
}

/// Strips the URL from a reqwest error's text (URLs may carry state or hints).
trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text
                .replace(&format!(" ({url})"), "")
                .replace(url.as_str(), "");
        }
        text
    }
}

/// The error shape the UI receives: `{"kind": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UiError {
    /// What kind of error (camelCase).
    pub kind: ErrorKind,
    /// A sentence for people.
    pub message: String,
}

impl From<Error> for UiError {
    fn from(error: Error) -> Self {
        UiError {
            kind: error.kind(),
            message: error.to_string(),
        }
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_error_serialises_kind_and_message() {
        let json = serde_json::to_value(UiError::from(Error::SessionExpired)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "sessionExpired", "message": "Your session expired. Sign in again."})
        );
    }

    #[test]
    fn api_status_maps_to_kind() {
        let api = |status| {
            Error::Api(Box::new(ApiError {
                status,
                code: None,
                message: "x".into(),
                error_code: None,
                field_violations: vec![],
            }))
        };
        let table = [
            (400, ErrorKind::InvalidInput),
            (401, ErrorKind::SignInRequired),
            (403, ErrorKind::Forbidden),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::InvalidInput),
            (429, ErrorKind::Server),
            (500, ErrorKind::Server),
            (503, ErrorKind::Server),
        ];
        for (status, kind) in table {
            assert_eq!(api(status).kind(), kind, "status {status}");
        }
    }

    #[test]
    fn a_missing_broker_says_so_and_points_to_the_browser() {
        let json = serde_json::to_value(UiError::from(Error::PasskeysBrokerMissing)).unwrap();
        assert_eq!(json["kind"], "passkeysBrokerMissing");
        let message = json["message"].as_str().unwrap();
        assert!(message.contains("passkeys broker"), "{message}");
        assert!(message.contains("not configured"), "{message}");
        assert!(message.contains("in the browser"), "{message}");
    }

    #[test]
    fn port_in_use_names_the_port() {
        let error = Error::PortInUse { port: 8765 };
        assert!(error.to_string().contains("8765"));
        assert_eq!(error.kind(), ErrorKind::Config);
    }
}
