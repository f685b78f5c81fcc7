//! CSRF protection for the hosted pages' forms and JSON endpoints.
//!
//! Besides the `SameSite=Lax` cookies, every page that posts carries a token
//! bound to two things: a random per-browser cookie (`skemu_csrf`) and the flow
//! the page belongs to (an authorization request, an email challenge, or the
//! signed-in session). The token is a keyed SHA-256 over both, so a token taken
//! from one flow or browser is useless in another. The key is random per
//! process.

use std::sync::LazyLock;

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::secret::random_token;

/// Name of the per-browser CSRF cookie.
pub const CSRF_COOKIE: &str = "skemu_csrf";
/// Header the JSON endpoints read the token from.
pub const CSRF_HEADER: &str = "x-csrf-token";

static KEY: LazyLock<[u8; 32]> = LazyLock::new(|| {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
});

fn token_for(cookie: &str, flow: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(KEY.as_slice());
    hasher.update((cookie.len() as u64).to_be_bytes());
    hasher.update(cookie.as_bytes());
    hasher.update(flow.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// The token for `flow`, creating the browser's CSRF cookie if it has none
/// (the returned jar then carries it: include it in the response).
pub fn issue(jar: CookieJar, flow: &str, secure: bool) -> (CookieJar, String) {
    if let Some(existing) = jar.get(CSRF_COOKIE) {
        let token = token_for(existing.value(), flow);
        return (jar, token);
    }
    let value = random_token(32);
    let token = token_for(&value, flow);
    let cookie = Cookie::build((CSRF_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .build();
    (jar.add(cookie), token)
}

/// Checks a submitted token for `flow` against the browser's CSRF cookie.
///
/// # Errors
/// [`Error::Forbidden`] when the cookie or token is missing or does not match.
pub fn verify(jar: &CookieJar, flow: &str, submitted: Option<&str>) -> Result<()> {
    let refused = || {
        Error::Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again."
                .into(),
        )
    };
    let cookie = jar.get(CSRF_COOKIE).ok_or_else(refused)?;
    let submitted = submitted.filter(|t| !t.is_empty()).ok_or_else(refused)?;
    if crate::secret::constant_time_eq(&token_for(cookie.value(), flow), submitted) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The token from the `X-CSRF-Token` header, if any.
pub fn header_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
}

/// The flow name of the sign-in page (and its passkey endpoints).
pub fn login_flow(auth_request: Option<&str>) -> String {
    format!("login:{}", auth_request.unwrap_or(""))
}

/// The flow name of a code-entry page.
pub fn challenge_flow(challenge_id: &str) -> String {
    format!("challenge:{challenge_id}")
}

/// The flow name of a magic link's "Continue as" page.
pub fn magic_flow(challenge_id: &str) -> String {
    format!("magic:{challenge_id}")
}

/// The flow name of the sign-out confirmation of one browser session.
pub fn logout_flow(session_id: &str) -> String {
    format!("logout:{session_id}")
}

/// The flow name of the passkeys page of one browser session.
pub fn profile_flow(session_id: &str) -> String {
    format!("profile:{session_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_bound_to_cookie_and_flow() {
        let (jar, token) = issue(CookieJar::new(), "login:a", false);
        assert!(jar.get(CSRF_COOKIE).is_some());
        assert!(verify(&jar, "login:a", Some(&token)).is_ok());
        assert!(verify(&jar, "login:b", Some(&token)).is_err(), "other flow");
        assert!(verify(&jar, "login:a", None).is_err(), "missing token");
        assert!(verify(&jar, "login:a", Some("")).is_err(), "empty token");
        assert!(
            verify(&CookieJar::new(), "login:a", Some(&token)).is_err(),
            "missing cookie"
        );
        let (other_jar, _) = issue(CookieJar::new(), "login:a", false);
        assert!(
            verify(&other_jar, "login:a", Some(&token)).is_err(),
            "other browser"
        );
    }

    #[test]
    fn existing_cookie_is_reused() {
        let (jar, first) = issue(CookieJar::new(), "f", false);
        let (jar, second) = issue(jar, "f", false);
        assert_eq!(first, second);
        let cookie = jar.get(CSRF_COOKIE).unwrap();
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    }
}
