//! The current session and its single-flight refresh.
//!
//! Concurrent callers that find the access token stale all call
//! [`Sessions::refresh`] with the token they started with; the first one
//! refreshes under a `tokio::sync::Mutex`, the others wait and, seeing that
//! the token changed meanwhile, use the new one. A rotated refresh token is
//! stored in the keychain before it replaces the old one in memory. A
//! refused refresh purges the keychain and reports [`Error::SessionExpired`].
//!
//! Two orderings keep a session from coming back or being knocked out:
//!
//! - Sign-out (and any sign-in) bumps a generation counter under the lock the
//!   refresh's keychain write takes; a refresh that started before lands
//!   nowhere (its new refresh token is revoked, best effort), so a sign-out
//!   during a refresh stays a sign-out.
//! - Another process (the command line, a second window) shares the keychain
//!   entry and rotates the refresh token too. Inside the single flight the
//!   keychain is read again before refreshing: a newer session of the same
//!   account is used instead of redeeming the rotated (dead) refresh token,
//!   which would make the provider revoke the whole family. A keychain that
//!   is now empty or holds another account means this session ended
//!   elsewhere: [`Error::SessionExpired`], and nothing is purged.
//!
//! A session without a refresh token (a provider that issues none) is used
//! until its access token expires, with no skew; after that, or when the API
//! refuses the token, it is purged and every call says
//! [`Error::SessionExpired`] (the provider is not even asked, so no network
//! or server message can get in the way of "Sign in again").

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::oidc::{Provider, TokenFailure};
use crate::secret::{constant_time_eq, AccessToken};
use crate::vault::{Account, StoredSession, TokenVault};

/// Refresh this long before the access token expires.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(30);

/// The in-memory session, backed by the vault.
pub(crate) struct Sessions {
    vault: TokenVault,
    state: Mutex<Loaded>,
    refresh_lock: Mutex<()>,
    skew: Duration,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Loaded {
    loaded: bool,
    session: Option<StoredSession>,
    /// Bumped by every change of the session; a refresh writes its tokens
    /// only if it is still the one it started from.
    generation: u64,
}

/// What a second look at the keychain found.
enum Reread {
    /// The session in memory is the one in the keychain.
    Same,
    /// Another process stored a newer session of the same account.
    Newer(StoredSession),
    /// The keychain is empty or holds another account: this session ended elsewhere.
    Ended,
}

impl Sessions {
    pub(crate) fn new(vault: TokenVault, skew: Duration, clock: Arc<dyn Clock>) -> Sessions {
        Sessions {
            vault,
            state: Mutex::new(Loaded::default()),
            refresh_lock: Mutex::new(()),
            skew,
            clock,
        }
    }

    /// The current session; read from the vault the first time.
    pub(crate) async fn current(&self) -> Result<Option<StoredSession>> {
        Ok(self.snapshot().await?.0)
    }

    /// The current session and its generation.
    async fn snapshot(&self) -> Result<(Option<StoredSession>, u64)> {
        let mut state = self.state.lock().await;
        if !state.loaded {
            state.session = self.vault.load().await?;
            state.loaded = true;
        }
        Ok((state.session.clone(), state.generation))
    }

    /// The current session, or [`Error::SignInRequired`].
    pub(crate) async fn required(&self) -> Result<StoredSession> {
        self.current().await?.ok_or(Error::SignInRequired)
    }

    /// Whether the access token expires within the skew, by the clock; a
    /// session that cannot be refreshed uses its access token until it has
    /// expired.
    pub(crate) fn needs_refresh(&self, session: &StoredSession) -> bool {
        let skew = match session.refresh_token {
            Some(_) => self.skew,
            None => Duration::ZERO,
        };
        session.expires_at - skew <= self.clock.now_utc()
    }

    /// Stores a new session (keychain first, then memory); a refresh in
    /// flight will not overwrite it.
    pub(crate) async fn replace(&self, session: StoredSession) -> Result<()> {
        let mut state = self.state.lock().await;
        state.generation += 1;
        self.vault.save(&session).await?;
        state.session = Some(session);
        state.loaded = true;
        Ok(())
    }

    /// Forgets the session (keychain first, then memory); a refresh in
    /// flight will not bring it back.
    pub(crate) async fn clear(&self) -> Result<()> {
        let mut state = self.state.lock().await;
        state.generation += 1;
        let purged = self.vault.purge().await;
        state.session = None;
        state.loaded = true;
        purged
    }

    /// Stores the refreshed session unless the session changed (sign-out,
    /// sign-in) since generation `since`; returns whether it was stored.
    async fn replace_if_current(&self, since: u64, session: StoredSession) -> Result<bool> {
        let mut state = self.state.lock().await;
        if state.generation != since {
            return Ok(false);
        }
        state.generation += 1;
        self.vault.save(&session).await?;
        state.session = Some(session);
        Ok(true)
    }

    /// Purges the session unless it changed since generation `since`.
    async fn expire_if_current(&self, since: u64) {
        let mut state = self.state.lock().await;
        if state.generation != since {
            return;
        }
        state.generation += 1;
        if let Err(err) = self.vault.purge().await {
            tracing::warn!("could not purge the expired session: {err}");
        }
        state.session = None;
    }

    /// Reads the keychain again: another process sharing the entry may have
    /// rotated the refresh token, or signed out, since this one loaded it.
    /// Memory follows the keychain; returns the generation after that.
    async fn reread(&self, ours: &StoredSession) -> Result<(Reread, u64)> {
        let mut state = self.state.lock().await;
        let stored = self.vault.load().await?;
        let found = match &stored {
            Some(stored) if same_tokens(stored, ours) => {
                return Ok((Reread::Same, state.generation))
            }
            Some(stored)
                if stored.account.subject == ours.account.subject
                    && stored.account.environment == ours.account.environment =>
            {
                Reread::Newer(stored.clone())
            }
            // Nothing, or another account: whatever is there now is the truth.
            _ => Reread::Ended,
        };
        state.generation += 1;
        state.session = stored;
        Ok((found, state.generation))
    }

    /// Refreshes unless someone already replaced `stale` while we waited.
    /// `provider` (discovery) is only awaited when there is a refresh token.
    pub(crate) async fn refresh<P, Fut>(
        &self,
        provider: P,
        stale: &AccessToken,
    ) -> Result<StoredSession>
    where
        P: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<Provider>>>,
    {
        let _single_flight = self.refresh_lock.lock().await;
        let (session, _) = self.snapshot().await?;
        let session = session.ok_or(Error::SignInRequired)?;
        if !constant_time_eq(session.access_token.secret(), stale.secret()) {
            return Ok(session);
        }
        let (session, generation) = match self.reread(&session).await? {
            (Reread::Same, generation) => (session, generation),
            (Reread::Newer(newer), generation) => {
                tracing::debug!("another process refreshed the session; using its tokens");
                if !self.needs_refresh(&newer) {
                    return Ok(newer);
                }
                (newer, generation)
            }
            (Reread::Ended, _) => {
                tracing::info!("the session ended in another process");
                return Err(Error::SessionExpired);
            }
        };
        let Some(refresh_token) = session.refresh_token.clone() else {
            self.expire_if_current(generation).await;
            return Err(Error::SessionExpired);
        };
        let provider = provider().await?;
        tracing::debug!("refreshing the access token");
        match provider.refresh(&refresh_token).await {
            Ok(tokens) => {
                let rotated = tokens.refresh_token.clone();
                let renewed = StoredSession {
                    access_token: tokens.access_token,
                    refresh_token: tokens.refresh_token.or(Some(refresh_token)),
                    id_token: tokens.id_token.or(session.id_token),
                    expires_at: tokens.expires_at,
                    account: match tokens.account {
                        // What UserInfo added at sign-in stays when the new ID token lacks it.
                        Some(account) if account.subject == session.account.subject => Account {
                            email: account.email.or(session.account.email),
                            name: account.name.or(session.account.name),
                            ..account
                        },
                        Some(_) => {
                            self.expire_if_current(generation).await;
                            return Err(Error::SessionExpired);
                        }
                        None => session.account,
                    },
                };
                if self.replace_if_current(generation, renewed.clone()).await? {
                    return Ok(renewed);
                }
                // Signed out (or in again) while the refresh was in flight:
                // its tokens belong to a session that is over.
                tracing::info!("a refresh landed after the session changed; discarded");
                if let Some(rotated) = rotated {
                    if let Err(err) = provider.revoke(&rotated).await {
                        tracing::warn!("revoking the discarded refresh token failed: {err}");
                    }
                }
                self.required().await
            }
            Err(TokenFailure::Rejected(reason)) => {
                tracing::info!("refresh refused: {reason}");
                self.expire_if_current(generation).await;
                Err(Error::SessionExpired)
            }
            Err(TokenFailure::Other(error)) => Err(error),
        }
    }
}

/// Whether two sessions hold the same tokens (compared in constant time).
fn same_tokens(a: &StoredSession, b: &StoredSession) -> bool {
    let refresh = match (&a.refresh_token, &b.refresh_token) {
        (Some(a), Some(b)) => constant_time_eq(a.secret(), b.secret()),
        (None, None) => true,
        _ => false,
    };
    refresh & constant_time_eq(a.access_token.secret(), b.access_token.secret())
}

#[cfg(test)]
mod tests;
