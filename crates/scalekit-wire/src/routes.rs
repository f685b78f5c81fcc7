//! The REST routes: their paths (in the `{param}` syntax routers use) and
//! the URLs a client calls, ids percent-encoded as one path segment.

use url::Url;

use crate::{Error, Result};

/// `ListCredentials`: `GET`, with an optional `user_id` query parameter.
pub const CREDENTIALS_PATH: &str = "/api/v1/webauthn/credentials";
/// `UpdateCredential` (`PATCH`) and `DeleteCredential` (`DELETE`).
pub const CREDENTIAL_PATH: &str = "/api/v1/webauthn/credentials/{id}";
/// `GetSession`: `GET`.
pub const SESSION_PATH: &str = "/api/v1/sessions/{session_id}";
/// `RevokeSession`: `POST`.
pub const REVOKE_SESSION_PATH: &str = "/api/v1/sessions/{session_id}/revoke";
/// `GetUserSessions`: `GET`, paged and filtered by [`crate::session::UserSessionsQuery`].
pub const USER_SESSIONS_PATH: &str = "/api/v1/users/{user_id}/sessions";
/// `RevokeAllUserSessions`: `POST`.
pub const REVOKE_USER_SESSIONS_PATH: &str = "/api/v1/users/{user_id}/sessions/revoke";
/// The passkeys broker's list of the caller's own sessions: `GET`, answering
/// `UserSessionDetails` (not a Scalekit route: the broker knows the user
/// from the caller's token).
pub const OWN_SESSIONS_PATH: &str = "/api/v1/sessions";
/// The query parameter naming whose credentials to list.
pub const USER_ID_PARAM: &str = "user_id";

const CREDENTIALS: [&str; 4] = ["api", "v1", "webauthn", "credentials"];
const SESSIONS: [&str; 3] = ["api", "v1", "sessions"];
const USERS: [&str; 3] = ["api", "v1", "users"];

/// `<base>/api/v1/webauthn/credentials[/<id>]`. The base may have a path
/// (a broker mounted under `/broker/`); its query and fragment are dropped.
///
/// # Errors
/// [`Error::NotABaseUrl`] when `base` cannot carry a path.
pub fn credentials_url(base: &Url, id: Option<&str>) -> Result<Url> {
    api_url(base, &CREDENTIALS, id)
}

/// `<base>/api/v1/webauthn/credentials?user_id=<user_id>`.
///
/// # Errors
/// [`Error::NotABaseUrl`] when `base` cannot carry a path.
pub fn list_credentials_url(base: &Url, user_id: &str) -> Result<Url> {
    let mut url = credentials_url(base, None)?;
    url.query_pairs_mut().append_pair(USER_ID_PARAM, user_id);
    Ok(url)
}

/// `<base>/api/v1/sessions/<session_id>`.
///
/// # Errors
/// [`Error::NotABaseUrl`] when `base` cannot carry a path.
pub fn session_url(base: &Url, session_id: &str) -> Result<Url> {
    api_url(base, &SESSIONS, Some(session_id))
}

/// `<base>/api/v1/sessions/<session_id>/revoke`.
///
/// # Errors
/// [`Error::NotABaseUrl`] when `base` cannot carry a path.
pub fn revoke_session_url(base: &Url, session_id: &str) -> Result<Url> {
    with_tail(session_url(base, session_id)?, &["revoke"])
}

/// `<base>/api/v1/users/<user_id>/sessions`.
///
/// # Errors
/// [`Error::NotABaseUrl`] when `base` cannot carry a path.
pub fn user_sessions_url(base: &Url, user_id: &str) -> Result<Url> {
    with_tail(api_url(base, &USERS, Some(user_id))?, &["sessions"])
}

/// `<base>/api/v1/users/<user_id>/sessions/revoke`.
///
/// # Errors
/// [`Error::NotABaseUrl`] when `base` cannot carry a path.
pub fn revoke_user_sessions_url(base: &Url, user_id: &str) -> Result<Url> {
    with_tail(
        api_url(base, &USERS, Some(user_id))?,
        &["sessions", "revoke"],
    )
}

/// The broker's `<base>/api/v1/sessions` ([`OWN_SESSIONS_PATH`]).
///
/// # Errors
/// [`Error::NotABaseUrl`] when `base` cannot carry a path.
pub fn own_sessions_url(base: &Url) -> Result<Url> {
    api_url(base, &SESSIONS, None)
}

/// `url` with more fixed path segments.
fn with_tail(mut url: Url, tail: &[&str]) -> Result<Url> {
    let text = url.to_string();
    url.path_segments_mut()
        .map_err(|()| Error::NotABaseUrl(text))?
        .extend(tail);
    Ok(url)
}

fn api_url(base: &Url, path: &[&str], id: Option<&str>) -> Result<Url> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| Error::NotABaseUrl(base.to_string()))?;
        segments.pop_if_empty().extend(path);
        if let Some(id) = id {
            segments.push(id);
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_ids() {
        let cases = [
            (
                "https://acme.scalekit.dev",
                None,
                "https://acme.scalekit.dev/api/v1/webauthn/credentials",
            ),
            (
                "http://127.0.0.1:9/broker/?x=1#f",
                Some("wac/1 ?#%"),
                "http://127.0.0.1:9/broker/api/v1/webauthn/credentials/wac%2F1%20%3F%23%25",
            ),
            (
                "https://acme.scalekit.dev/",
                Some("wac_1/../x?y"),
                "https://acme.scalekit.dev/api/v1/webauthn/credentials/wac_1%2F..%2Fx%3Fy",
            ),
        ];
        for (base, id, expected) in cases {
            assert_eq!(credentials_url(&url(base), id).unwrap().as_str(), expected);
        }
        assert_eq!(
            list_credentials_url(&url("https://a.example/"), "usr_1&x")
                .unwrap()
                .as_str(),
            "https://a.example/api/v1/webauthn/credentials?user_id=usr_1%26x"
        );
        assert_eq!(
            session_url(&url("https://a.example"), "ses_1")
                .unwrap()
                .as_str(),
            "https://a.example/api/v1/sessions/ses_1"
        );
        let base = url("http://127.0.0.1:9/broker/");
        let cases = [
            (
                revoke_session_url(&base, "ses_1/x").unwrap(),
                "http://127.0.0.1:9/broker/api/v1/sessions/ses_1%2Fx/revoke",
            ),
            (
                user_sessions_url(&base, "usr_1?").unwrap(),
                "http://127.0.0.1:9/broker/api/v1/users/usr_1%3F/sessions",
            ),
            (
                revoke_user_sessions_url(&base, "usr_1").unwrap(),
                "http://127.0.0.1:9/broker/api/v1/users/usr_1/sessions/revoke",
            ),
            (
                own_sessions_url(&base).unwrap(),
                "http://127.0.0.1:9/broker/api/v1/sessions",
            ),
        ];
        for (built, expected) in cases {
            assert_eq!(built.as_str(), expected);
        }
        assert!(matches!(
            credentials_url(&url("mailto:a@example.com"), None),
            Err(Error::NotABaseUrl(_))
        ));
    }

    #[test]
    fn route_templates_match_the_builders() {
        let base = url("http://h");
        assert_eq!(
            credentials_url(&base, None).unwrap().path(),
            CREDENTIALS_PATH
        );
        assert_eq!(
            credentials_url(&base, Some("{id}")).unwrap().path(),
            CREDENTIAL_PATH.replace('{', "%7B").replace('}', "%7D")
        );
        let template = |path: &str| path.replace('{', "%7B").replace('}', "%7D");
        let cases = [
            (session_url(&base, "{session_id}"), SESSION_PATH),
            (
                revoke_session_url(&base, "{session_id}"),
                REVOKE_SESSION_PATH,
            ),
            (user_sessions_url(&base, "{user_id}"), USER_SESSIONS_PATH),
            (
                revoke_user_sessions_url(&base, "{user_id}"),
                REVOKE_USER_SESSIONS_PATH,
            ),
            (own_sessions_url(&base), OWN_SESSIONS_PATH),
        ];
        for (built, path) in cases {
            assert_eq!(built.unwrap().path(), template(path));
        }
    }
}
