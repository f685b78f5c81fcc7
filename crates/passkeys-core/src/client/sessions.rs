//! Where the person is signed in: their browser sessions through the
//! passkeys broker, and signing one or all the others out. The session this
//! app signed in with is the ID token's `sid`; it is never signed out here
//! (that is [`Client::sign_out`]).

use base64::Engine as _;

use super::Client;
use crate::error::{Error, Result};
use crate::passkeys::SignedInSession;

impl Client {
    /// The signed-in person's sessions (this app's marked `current`).
    ///
    /// # Errors
    /// As [`Client::list_passkeys`].
    pub async fn list_sessions(&self) -> Result<Vec<SignedInSession>> {
        let current = self.current_session_id().await?;
        self.authorized(|api, grant| {
            let current = current.clone();
            async move {
                api.list_sessions(&grant.access_token, current.as_deref())
                    .await
            }
        })
        .await
    }

    /// Signs out one of the person's other sessions: it ends, and its
    /// tokens stop working.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for this app's own session (use
    /// [`Client::sign_out`]) or a malformed id; else as [`Client::list_passkeys`]
    /// ([`Error::Api`] 404 for a session that is not the person's);
    /// [`Error::ReauthenticationRequired`] when the last authentication is
    /// too old (then [`Client::confirm_identity`] and retry).
    pub async fn sign_out_session(&self, id: &str) -> Result<()> {
        if self.current_session_id().await?.as_deref() == Some(id) {
            return Err(Error::InvalidInput(
                "That is this app's own session: use Sign out to end it.".into(),
            ));
        }
        self.authorized(|api, grant| async move {
            api.revoke_session(&grant.access_token, grant.id_token.as_ref(), id)
                .await
        })
        .await
    }

    /// Signs out every other active session; this app stays signed in.
    /// Returns how many were signed out.
    ///
    /// # Errors
    /// As [`Client::list_sessions`]; the first failure stops the rest.
    pub async fn sign_out_other_sessions(&self) -> Result<usize> {
        let others: Vec<String> = self
            .list_sessions()
            .await?
            .into_iter()
            .filter(|session| session.is_active() && !session.current)
            .map(|session| session.id)
            .collect();
        for id in &others {
            self.sign_out_session(id).await?;
        }
        Ok(others.len())
    }

    /// The `sid` of the stored ID token (verified when it was stored).
    pub(super) async fn current_session_id(&self) -> Result<Option<String>> {
        let session = self.inner.sessions.required().await?;
        Ok(session
            .id_token
            .as_ref()
            .and_then(|token| session_id_of(token.secret())))
    }
}

/// The `sid` claim of a JWT's payload, read without checking the signature
/// (the token was checked before it was stored).
pub(super) fn session_id_of(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sid")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::session_id_of;

    #[test]
    fn the_session_id_comes_from_the_payload() {
        // {"sub":"usr_1","sid":"ses_42"}
        let jwt = "e30.eyJzdWIiOiJ1c3JfMSIsInNpZCI6InNlc180MiJ9.c2ln";
        assert_eq!(session_id_of(jwt).as_deref(), Some("ses_42"));
        assert_eq!(session_id_of("e30.e30.c2ln"), None);
        assert_eq!(session_id_of("not a jwt"), None);
        assert_eq!(session_id_of("a.!!!.b"), None);
    }
}
