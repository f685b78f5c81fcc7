//! Step-up: removing a passkey or signing a session out needs a recent
//! authentication, and the broker checks it itself, so a local process
//! holding the app's access token cannot skip it.
//!
//! The proof is the caller's ID token in the
//! [`RECENT_AUTHENTICATION_HEADER`](scalekit_wire::step_up::RECENT_AUTHENTICATION_HEADER)
//! header: RS256, signed by the environment's keys, issued by it to the app
//! (`iss`, `aud`, `azp`), not expired, about the caller (`sub`, and `sid`
//! when it names one), an ID token (not an access token) and with an
//! `auth_time` no older than the configured `step_up_max_age`. Anything
//! less is answered with the RFC 9470 challenge
//! ([`Error::StepUpRequired`]): `401`, `WWW-Authenticate: Bearer
//! error="insufficient_user_authentication", max_age=…`.

use std::time::Duration;

use axum::http::HeaderMap;
use scalekit_wire::step_up::RECENT_AUTHENTICATION_HEADER;
use serde::Deserialize;

use crate::auth::{Caller, Refusal, TokenVerifier};
use crate::error::{Error, Result};

/// The ID-token claims the proof is judged on (`iss`, `aud`, `exp`, `nbf`
/// are checked by the validation itself).
#[derive(Debug, Deserialize)]
struct ProofClaims {
    sub: String,
    sid: Option<String>,
    azp: Option<String>,
    auth_time: Option<i64>,
    /// Scalekit's ID tokens carry `at_hash`; its access tokens carry a `jti`
    /// and no `at_hash`.
    at_hash: Option<serde_json::Value>,
    jti: Option<String>,
}

impl TokenVerifier {
    /// Checks the request's proof of a recent authentication for `caller`.
    ///
    /// # Errors
    /// [`Error::StepUpRequired`] (naming why) when the header is missing,
    /// the token is not a valid ID token of this environment for this
    /// caller, or its `auth_time` is older than `max_age`; upstream errors
    /// when the signing keys cannot be fetched.
    pub(crate) async fn check_recent_authentication(
        &self,
        headers: &HeaderMap,
        caller: &Caller,
        max_age: Duration,
    ) -> Result<()> {
        let refuse = |reason: &str| Error::StepUpRequired {
            max_age_secs: max_age.as_secs(),
            reason: reason.to_owned(),
        };
        let token = headers
            .get(RECENT_AUTHENTICATION_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| refuse("this needs a recent sign-in"))?;
        let claims = self
            .decode::<ProofClaims>(token)
            .await?
            .map_err(|refusal| {
                refuse(match refusal {
                    Refusal::Malformed => "the proof is malformed",
                    Refusal::NotRs256 => "the proof must be signed with RS256",
                    Refusal::NoKeyId => "the proof has no key id",
                    Refusal::UnknownKey => "the proof is signed with an unknown key",
                    Refusal::Invalid(_) => "the proof is not a valid ID token of this environment",
                })
            })?;
        if claims.at_hash.is_none() && claims.jti.is_some() {
            return Err(refuse("the proof is an access token, not an ID token"));
        }
        if claims
            .azp
            .as_deref()
            .is_some_and(|azp| azp != self.client_id)
        {
            return Err(refuse("the proof was issued to another client"));
        }
        if claims.sub != caller.user_id {
            return Err(refuse("the proof is about another user"));
        }
        if claims
            .sid
            .as_deref()
            .is_some_and(|sid| sid != caller.session_id)
        {
            return Err(refuse("the proof comes from another session"));
        }
        let auth_time = claims
            .auth_time
            .ok_or_else(|| refuse("the proof does not say when you signed in"))?;
        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX);
        let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        if auth_time > now.saturating_add(leeway) {
            return Err(refuse("the proof's sign-in time is in the future"));
        }
        if now.saturating_sub(auth_time) > max_age {
            return Err(refuse("your last sign-in is too old for this"));
        }
        Ok(())
    }
}
