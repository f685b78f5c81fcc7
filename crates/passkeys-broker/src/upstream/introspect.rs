//! RFC 7662 token introspection, as the broker's confidential client: is a
//! caller's access token still active at the environment? A token whose
//! refresh token was revoked at sign-out (RFC 7009 revokes the whole token
//! family) is not, though its signature and `exp` still verify.

use axum::http::{header, StatusCode};
use serde::Deserialize;
use url::Url;

use super::Upstream;
use crate::error::{Error, Result};

/// What the environment said about one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Introspection {
    /// Whether the token is still active (RFC 7662 §2.2).
    pub(crate) active: bool,
    /// The `sub` it names, when it says.
    pub(crate) subject: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    active: Option<bool>,
    sub: Option<String>,
}

impl Upstream {
    /// `POST <endpoint>` with `token=…&token_type_hint=access_token`,
    /// authenticated with the broker's client credentials.
    ///
    /// # Errors
    /// Upstream errors: a refusal of the broker's credentials or an answer
    /// without `active` is [`Error::UpstreamBadResponse`] (never a 401: it is
    /// not the caller's fault).
    pub(crate) async fn introspect(&self, endpoint: &Url, token: &str) -> Result<Introspection> {
        let form = vec![("token", token), ("token_type_hint", "access_token")];
        let response = self
            .with_client_auth(self.http.post(endpoint.clone()), form)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| crate::http::send_error("token introspection", &e, self.timeout))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            tracing::error!(%status, "the introspection endpoint refused the broker's client credentials");
            return Err(Error::UpstreamBadResponse(format!(
                "the introspection endpoint refused the broker's client credentials ({status})"
            )));
        }
        if !status.is_success() {
            return Err(Error::UpstreamBadResponse(format!(
                "token introspection answered {status}"
            )));
        }
        let answer: Answer = response.json().await.map_err(|_| unreadable())?;
        Ok(Introspection {
            active: answer.active.ok_or_else(unreadable)?,
            subject: answer.sub,
        })
    }
}

fn unreadable() -> Error {
    Error::UpstreamBadResponse("token introspection sent an unreadable answer".into())
}
