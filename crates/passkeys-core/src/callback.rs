//! Parsing the authorization response (the redirect's query string).
//!
//! Shared by the loopback listener and the deep-link handler. Accepted
//! parameters: `code`, `state`, `error`, `error_description`, `error_uri`
//! and `iss` (RFC 9207); each at most once. Anything else is refused.

use crate::error::Error;
use crate::secret::{constant_time_eq, AuthorizationCode};

/// A successful authorization response whose `state` matched.
#[derive(Debug)]
pub(crate) struct CallbackCode {
    pub code: AuthorizationCode,
    pub issuer: Option<String>,
}

/// Why a callback query was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CallbackError {
    /// No `state`: not an answer to our request (keep waiting).
    #[error("The sign-in answer has no state parameter.")]
    MissingState,
    /// A different `state`: not an answer to our request (keep waiting).
    #[error("The sign-in answer does not belong to the sign-in in progress.")]
    WrongState,
    /// A parameter appears more than once.
    #[error("The sign-in answer repeats the parameter \"{0}\".")]
    Duplicated(String),
    /// A parameter we do not expect.
    #[error("The sign-in answer has an unexpected parameter \"{0}\".")]
    Unexpected(String),
    /// The state matched but there is neither `code` nor `error`.
    #[error("The sign-in answer has no authorization code.")]
    MissingCode,
    /// The state matched and the provider sent `error=`.
    #[error("Sign-in failed: {description} ({error})")]
    Authorization { error: String, description: String },
}

impl CallbackError {
    /// Whether this answer belongs to our sign-in (`state` matched); the
    /// loopback keeps waiting for the ones that do not.
    pub(crate) fn belongs_to_us(&self) -> bool {
        matches!(
            self,
            CallbackError::MissingCode | CallbackError::Authorization { .. }
        )
    }
}

impl From<CallbackError> for Error {
    fn from(error: CallbackError) -> Self {
        match error {
            CallbackError::Authorization { error, description } => {
                Error::Authorization { error, description }
            }
            other => Error::InvalidInput(other.to_string()),
        }
    }
}

const ALLOWED: [&str; 6] = [
    "code",
    "state",
    "error",
    "error_description",
    "error_uri",
    "iss",
];

/// Parses a redirect query (without `?`) against the expected `state`.
///
/// Duplicated or unknown parameters are refused first, then the state is
/// compared in constant time, then `error=` or `code` decide.
pub(crate) fn parse_callback_query(
    query: &str,
    expected_state: &str,
) -> Result<CallbackCode, CallbackError> {
    let mut values: [Option<String>; 6] = Default::default();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let Some(index) = ALLOWED.iter().position(|allowed| *allowed == key) else {
            return Err(CallbackError::Unexpected(printable(&key)));
        };
        if values[index].is_some() {
            return Err(CallbackError::Duplicated(ALLOWED[index].to_string()));
        }
        values[index] = Some(value.into_owned());
    }
    let [code, state, error, description, _error_uri, issuer] = values;
    let Some(state) = state else {
        return Err(CallbackError::MissingState);
    };
    if !constant_time_eq(&state, expected_state) {
        return Err(CallbackError::WrongState);
    }
    if let Some(error) = error {
        let description = description
            .filter(|text| !text.trim().is_empty())
            .unwrap_or_else(|| "the sign-in server refused the request".to_string());
        return Err(CallbackError::Authorization {
            error: printable(&error),
            description: printable(&description),
        });
    }
    match code {
        Some(code) if !code.is_empty() => Ok(CallbackCode {
            code: AuthorizationCode::new(code),
            issuer,
        }),
        _ => Err(CallbackError::MissingCode),
    }
}

/// Shortens and strips control characters from text we echo in messages.
fn printable(text: &str) -> String {
    let cleaned: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = "expected-state-value";

    #[test]
    fn accepts_code_with_matching_state() {
        let parsed =
            parse_callback_query("code=abc%20def&state=expected-state-value", STATE).unwrap();
        assert_eq!(parsed.code.secret(), "abc def");
        assert_eq!(parsed.issuer, None);
        let with_iss = parse_callback_query(
            "state=expected-state-value&code=c&iss=https%3A%2F%2Fenv",
            STATE,
        )
        .unwrap();
        assert_eq!(with_iss.issuer.as_deref(), Some("https://env"));
    }

    #[test]
    fn refuses_bad_answers() {
        let long = format!("code=c&state={STATE}&x={}", "a".repeat(10_000));
        let table: Vec<(&str, CallbackError)> =
            vec![
            ("code=c&state=other", CallbackError::WrongState),
            ("code=c&state=", CallbackError::WrongState),
            ("code=c&state=expected-state-valu", CallbackError::WrongState),
            ("code=c", CallbackError::MissingState),
            ("", CallbackError::MissingState),
            ("state=expected-state-value", CallbackError::MissingCode),
            ("state=expected-state-value&code=", CallbackError::MissingCode),
            (
                "code=c&state=expected-state-value&state=expected-state-value",
                CallbackError::Duplicated("state".into()),
            ),
            (
                "code=a&code=b&state=expected-state-value",
                CallbackError::Duplicated("code".into()),
            ),
            (
                "code=c&state=expected-state-value&extra=1",
                CallbackError::Unexpected("extra".into()),
            ),
            (&long, CallbackError::Unexpected("x".into())),
            (
                "error=access_denied&error_description=User%20said%20no&state=expected-state-value",
                CallbackError::Authorization {
                    error: "access_denied".into(),
                    description: "User said no".into(),
                },
            ),
            (
                "error=server_error&state=expected-state-value",
                CallbackError::Authorization {
                    error: "server_error".into(),
                    description: "the sign-in server refused the request".into(),
                },
            ),
            ("error=access_denied&state=forged", CallbackError::WrongState),
        ];
        for (query, expected) in table {
            let got = parse_callback_query(query, STATE).unwrap_err();
            assert_eq!(got, expected, "query {:.60}", query);
        }
    }

    #[test]
    fn only_state_matches_belong_to_us() {
        assert!(!CallbackError::WrongState.belongs_to_us());
        assert!(!CallbackError::MissingState.belongs_to_us());
        assert!(!CallbackError::Unexpected("x".into()).belongs_to_us());
        assert!(CallbackError::MissingCode.belongs_to_us());
    }

    #[test]
    fn error_messages_never_echo_the_code() {
        let error = parse_callback_query("code=secret-code&state=x", STATE).unwrap_err();
        assert!(!Error::from(error).to_string().contains("secret-code"));
    }
}
