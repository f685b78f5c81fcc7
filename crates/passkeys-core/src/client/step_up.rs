//! Confirming it is you: the re-authentication a removal needs when the
//! broker answers with its step-up challenge
//! ([`Error::ReauthenticationRequired`]).
//!
//! The person authenticates again in the system browser (`prompt=login`
//! and the challenge's `max_age`, through the configured deep link or
//! loopback), and the app checks the new ID token before keeping it: the
//! same person (`sub`) as the stored session, and an `auth_time` from this
//! confirmation, not an older one. The new tokens then replace the stored
//! ones (the replaced refresh token is revoked and, through the broker, the
//! replaced session signed out), so the next call carries a fresh proof.
//! Cancelling changes nothing.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::sessions::session_id_of;
use super::sign_in::NewSession;
use super::{Client, SignInProgress};
use crate::error::{Error, Result};
use crate::vault::Account;

/// How far the environment's clock may be behind this machine's when the
/// new `auth_time` is judged fresh.
const AUTH_TIME_SKEW_SECS: i64 = 60;

impl Client {
    /// Asks the signed-in person to authenticate again in the browser, for
    /// an authentication no older than the broker's last challenge asked
    /// (its `max_age`; 5 minutes before any), and keeps the new session when
    /// it is the same person, freshly authenticated.
    ///
    /// # Errors
    /// [`Error::SignInRequired`] when nobody is signed in;
    /// [`Error::Cancelled`] and [`Error::Timeout`] as for
    /// [`Client::sign_in`] (nothing changed); [`Error::InvalidInput`] when
    /// another account confirmed (its tokens are revoked, never stored);
    /// [`Error::Server`] when the environment did not authenticate the
    /// person again (no or an old `auth_time`); sign-in errors.
    pub async fn confirm_identity(
        &self,
        progress: impl Fn(SignInProgress) + Send + Sync + 'static,
    ) -> Result<Account> {
        let current = self.inner.sessions.required().await?;
        let started = self.inner.clock.now_utc().unix_timestamp();
        let max_age = Duration::from_secs(self.inner.step_up_max_age.load(Ordering::Relaxed));
        let (provider, signed_in) = self.authenticate(&progress, Some(max_age)).await?;

        if signed_in.account.subject != current.account.subject {
            if let Some(refresh_token) = &signed_in.tokens.refresh_token {
                if let Err(err) = provider.revoke(refresh_token).await {
                    tracing::warn!("revoking the other account's refresh token failed: {err}");
                }
            }
            return Err(Error::InvalidInput(format!(
                "You confirmed as {}, but {} is signed in here. Nothing was changed: confirm as {} to go on.",
                label(&signed_in.account),
                label(&current.account),
                label(&current.account),
            )));
        }
        let fresh = signed_in
            .tokens
            .auth_time
            .is_some_and(|auth_time| auth_time >= started - AUTH_TIME_SKEW_SECS);
        if !fresh {
            return Err(Error::Server {
                status: None,
                message: "The sign-in server did not ask you to sign in again, so it cannot confirm it is you. Nothing was changed.".into(),
            });
        }
        let replaced = current
            .id_token
            .as_ref()
            .and_then(|token| session_id_of(token.secret()));
        let new = NewSession::new(provider, signed_in);
        let account = new.session.account.clone();
        self.store_session(new.session, Some(&new.provider)).await?;
        self.end_replaced_session(replaced).await;
        Ok(account)
    }

    /// Signs out the session the confirmation replaced (its refresh token
    /// is already revoked), so that "Where you're signed in" does not list
    /// this app twice. Best effort: the confirmation stands either way.
    async fn end_replaced_session(&self, replaced: Option<String>) {
        let Some(replaced) = replaced else { return };
        if self.inner.api.is_none() {
            return;
        }
        match self.current_session_id().await {
            Ok(Some(current)) if current != replaced => {}
            _ => return,
        }
        let ended = self
            .authorized(|api, grant| {
                let replaced = replaced.clone();
                async move {
                    api.revoke_session(&grant.access_token, grant.id_token.as_ref(), &replaced)
                        .await
                }
            })
            .await;
        if let Err(err) = ended {
            tracing::warn!("signing out the replaced session failed: {err}");
        }
    }
}

/// The email, else the name, else the subject.
fn label(account: &Account) -> &str {
    account
        .email
        .as_deref()
        .or(account.name.as_deref())
        .unwrap_or(&account.subject)
}
