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
/// The query parameter naming whose credentials to list.
pub const USER_ID_PARAM: &str = "user_id";

const CREDENTIALS: [&str; 4] = ["api", "v1", "webauthn", "credentials"];
const SESSIONS: [&str; 3] = ["api", "v1", "sessions"];

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
        assert_eq!(
            session_url(&base, "{session_id}").unwrap().path(),
            SESSION_PATH.replace('{', "%7B").replace('}', "%7D")
        );
    }
}
