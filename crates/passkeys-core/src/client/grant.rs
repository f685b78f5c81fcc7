//! Calls made on the person's behalf: a fresh access token (one refresh and
//! one retry on a 401), the ID token as the proof of a recent sign-in that
//! removals need, and the broker's step-up challenge remembered for
//! [`Client::confirm_identity`].

use std::future::Future;

use super::Client;
use crate::error::{Error, Result};
use crate::passkeys::{is_unauthenticated, PasskeysApi};
use crate::secret::{AccessToken, IdToken};
use crate::vault::{Account, StoredSession};

impl Client {
    /// Runs an API call with a fresh access token; a 401 triggers one refresh and one retry.
    /// Without a passkeys broker nothing is read or sent.
    pub(super) async fn authorized<'a, T, F, Fut>(&'a self, call: F) -> Result<T>
    where
        F: Fn(&'a PasskeysApi, Grant) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let api = self
            .inner
            .api
            .as_ref()
            .ok_or(Error::PasskeysBrokerMissing)?;
        let sessions = &self.inner.sessions;
        let mut session = sessions.required().await?;
        if sessions.needs_refresh(&session) {
            session = sessions
                .refresh(|| self.provider(), &session.access_token)
                .await?;
        }
        let first = call(api, Grant::of(&session)).await;
        let outcome = match first {
            Err(error) if is_unauthenticated(&error) => {
                let renewed = sessions
                    .refresh(|| self.provider(), &session.access_token)
                    .await?;
                call(api, Grant::of(&renewed)).await
            }
            other => other,
        };
        if let Err(Error::ReauthenticationRequired { max_age_secs }) = &outcome {
            self.inner
                .step_up_max_age
                .store(*max_age_secs, std::sync::atomic::Ordering::Relaxed);
        }
        outcome
    }
}

/// What an API call made on the person's behalf carries: the access token,
/// the ID token (the proof of a recent authentication that removals need)
/// and whose they are.
pub(super) struct Grant {
    pub(super) access_token: AccessToken,
    pub(super) id_token: Option<IdToken>,
    pub(super) account: Account,
}

impl Grant {
    fn of(session: &StoredSession) -> Self {
        Grant {
            access_token: session.access_token.clone(),
            id_token: session.id_token.clone(),
            account: session.account.clone(),
        }
    }
}
