//! Request parsing and error responses of the hosted pages: a form extractor
//! that answers malformed bodies with a 400 page, the HTML and JSON error
//! wrappers, and input validation (email, `next`, display names).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::pages;
use crate::error::Error;

/// An [`Error`] shown as a hosted HTML page.
#[derive(Debug)]
pub struct PageError(pub Error);

impl<E: Into<Error>> From<E> for PageError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let title = match status {
            StatusCode::FORBIDDEN => "Request refused",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            s if s.is_server_error() => "Something went wrong",
            _ => "Something is not right",
        };
        pages::html(status, pages::message_page(title, &self.0.public_message()))
    }
}

/// An [`Error`] as `{"error": "..."}` for the pages' own JSON endpoints.
#[derive(Debug)]
pub struct JsonError(pub Error);

impl<E: Into<Error>> From<E> for JsonError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.0.public_message()});
        (self.0.status(), axum::Json(body)).into_response()
    }
}

/// The whole request body: too large is [`Error::PayloadTooLarge`], any other
/// failure to read it is an invalid request saying `unreadable`.
async fn read_body<S: Send + Sync>(
    request: Request,
    state: &S,
    unreadable: &str,
) -> Result<Bytes, Error> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::InvalidRequest(unreadable.into())
            }
        })
}

/// A urlencoded form body; anything that does not parse is a 400 page.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state, "The form could not be read.").await?;
        serde_urlencoded::from_bytes(&bytes).map(Form).map_err(|_| {
            PageError(Error::InvalidRequest(
                "The form is malformed. Reload the page and try again.".into(),
            ))
        })
    }
}

/// A JSON body; anything that does not parse is a 400 `{"error"}`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = JsonError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state, "The request body could not be read.").await?;
        serde_json::from_slice(&bytes).map(Json).map_err(|e| {
            JsonError(Error::InvalidRequest(format!(
                "The request body is malformed: {e}"
            )))
        })
    }
}

/// A trimmed, plausible email address (1 `@`, no spaces or controls, ≤ 254 bytes).
///
/// # Errors
/// [`Error::InvalidRequest`] with a message for the page.
pub fn valid_email(input: &str) -> Result<String, Error> {
    let email = input.trim();
    let bad =
        || Error::InvalidRequest("Enter a valid email address, like name@example.com.".into());
    if email.is_empty() || email.len() > 254 {
        return Err(bad());
    }
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:[]\\".contains(c))
    {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || local.len() > 64 || domain.is_empty() || domain.contains('@') {
        return Err(bad());
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return Err(bad());
    }
    Ok(email.to_owned())
}

/// `next`, if it is a same-origin relative path (`/…`, not `//…` or `/\…`).
///
/// # Errors
/// [`Error::InvalidRequest`] for anything else.
pub fn safe_next(next: Option<&str>) -> Result<Option<String>, Error> {
    let Some(next) = next.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        Ok(Some(next.to_owned()))
    } else {
        Err(Error::InvalidRequest(
            "The return address is not a path on this site.".into(),
        ))
    }
}

/// A passkey name: the wire contract's rule for typed names
/// ([`scalekit_wire::validate_display_name`]): trimmed, no control
/// characters, 1 to 120 characters.
///
/// # Errors
/// [`Error::Validation`] on `display_name`.
pub fn valid_display_name(input: &str) -> Result<String, Error> {
    scalekit_wire::validate_display_name(input)
        .map(str::to_owned)
        .map_err(|error| Error::Validation {
            field: "display_name".into(),
            description: format!(
                "The name must be 1 to {} characters.",
                scalekit_wire::DISPLAY_NAME_MAX_CHARS
            ),
            constraint: error.constraint().unwrap_or("string.len").into(),
        })
}

/// A submitted secret (emailed code, magic-link token, CSRF token): its
/// `Debug` never shows the value, and it has no `Display`.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretField(String);

impl SecretField {
    /// The value itself. Never log it.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretField([redacted])")
    }
}

/// The value of an optional secret field (empty when absent).
pub fn secret_value(field: &Option<SecretField>) -> Option<&str> {
    field.as_ref().map(SecretField::secret)
}

/// An optional form field: `None` when absent or empty.
pub fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_fields_are_redacted() {
        let field: SecretField = serde_json::from_str("\"123456\"").unwrap();
        assert_eq!(format!("{field:?}"), "SecretField([redacted])");
        assert_eq!(field.secret(), "123456");
        assert_eq!(secret_value(&Some(field)), Some("123456"));
        assert_eq!(secret_value(&None), None);
    }

    #[test]
    fn emails() {
        for good in ["a@b.c", " Ann@Example.com ", "x+tag@sub.example.org"] {
            assert!(valid_email(good).is_ok(), "{good}");
        }
        assert_eq!(valid_email(" a@b.c ").unwrap(), "a@b.c");
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "", "plain", "@x.y", "a@", "a@b@c", "a b@c.d", "a@.c", "a@c.", "<a>@b.c", "a@b..c",
            &long,
        ] {
            assert!(valid_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_paths() {
        assert_eq!(safe_next(None).unwrap(), None);
        assert_eq!(safe_next(Some("")).unwrap(), None);
        assert_eq!(
            safe_next(Some("/ui/profile/passkeys")).unwrap().as_deref(),
            Some("/ui/profile/passkeys")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/a\nb",
            "javascript:x",
        ] {
            assert!(safe_next(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(valid_display_name("  My key ").unwrap(), "My key");
        assert!(valid_display_name(&"é".repeat(scalekit_wire::DISPLAY_NAME_MAX_CHARS)).is_ok());
        assert!(
            valid_display_name(&"a".repeat(scalekit_wire::DISPLAY_NAME_MAX_CHARS + 1)).is_err()
        );
        assert!(valid_display_name("   ").is_err());
        assert!(valid_display_name("a\u{0}b").is_err());
    }
}
