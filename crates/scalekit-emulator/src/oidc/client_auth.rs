//! Client authentication at the token, revocation and introspection
//! endpoints: `none` (public clients send `client_id`), `client_secret_post`
//! and `client_secret_basic` (RFC 6749 §2.3.1).

use std::collections::HashMap;

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::config::{ClientConfig, ClientKind};
use crate::error::{Error, Result};
use crate::secret::constant_time_eq;
use crate::state::AppState;

fn form_decode(part: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("v={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || Error::InvalidClient("malformed Basic authorization header".into());
    let value = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(bad());
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    Ok(Some((
        form_decode(id).ok_or_else(bad)?,
        form_decode(secret).ok_or_else(bad)?,
    )))
}

/// Authenticates the calling client.
///
/// # Errors
/// [`Error::InvalidRequest`] when credentials come two ways;
/// [`Error::InvalidClient`] for an unknown client or a wrong / missing /
/// unexpected secret.
pub(crate) fn authenticate_client<'s>(
    state: &'s AppState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<&'s ClientConfig> {
    let basic = basic_credentials(headers)?;
    let body_secret = params.get("client_secret");
    let (client_id, secret) = match basic {
        Some((id, secret)) => {
            if body_secret.is_some() {
                return Err(Error::InvalidRequest(
                    "send the client secret one way only".into(),
                ));
            }
            if params
                .get("client_id")
                .is_some_and(|body_id| *body_id != id)
            {
                return Err(Error::InvalidClient(
                    "client_id does not match the credentials".into(),
                ));
            }
            (id, Some(secret))
        }
        None => {
            let id = params
                .get("client_id")
                .filter(|id| !id.is_empty())
                .ok_or_else(|| Error::InvalidClient("client_id is required".into()))?;
            (id.clone(), body_secret.cloned())
        }
    };
    let client = state
        .config
        .client(&client_id)
        .ok_or_else(|| Error::InvalidClient("unknown client".into()))?;
    match (
        client.kind,
        &client.secret,
        secret.filter(|s| !s.is_empty()),
    ) {
        (ClientKind::Native, _, None) => Ok(client),
        (ClientKind::Native, _, Some(_)) => Err(Error::InvalidClient(
            "this is a public client: it has no secret".into(),
        )),
        (ClientKind::Confidential, Some(expected), Some(given))
            if constant_time_eq(&given, expected.secret()) =>
        {
            Ok(client)
        }
        (ClientKind::Confidential, _, _) => {
            Err(Error::InvalidClient("client authentication failed".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode("skc%5Fdemo:demo%2Dsecret+x");
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {encoded}").parse().unwrap(),
        );
        assert_eq!(
            basic_credentials(&headers).unwrap(),
            Some(("skc_demo".to_owned(), "demo-secret x".to_owned()))
        );
        headers.insert(header::AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert!(basic_credentials(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert!(basic_credentials(&headers).is_err());
    }
}
