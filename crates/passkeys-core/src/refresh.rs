//! The current session and its single-flight refresh.
//!
//! Concurrent callers that find the access token stale all call
//! [`Sessions::refresh`] with the token they started with; the first one
//! refreshes under a `tokio::sync::Mutex`, the others wait and, seeing that
//! the token changed meanwhile, use the new one. A rotated refresh token is
//! stored in the keychain before it replaces the old one in memory. A
//! refused refresh purges the keychain and reports [`Error::SessionExpired`].
//!
//! A session without a refresh token (a provider that issues none) is used
//! until its access token expires, with no skew; after that, or when the API
//! refuses the token, it is purged and every call says
//! [`Error::SessionExpired`] (the provider is not even asked, so no network
//! or server message can get in the way of "Sign in again").

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Mutex;

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
}

#[derive(Default)]
struct Loaded {
    loaded: bool,
    session: Option<StoredSession>,
}

impl Sessions {
    pub(crate) fn new(vault: TokenVault, skew: Duration) -> Sessions {
        Sessions {
            vault,
            state: Mutex::new(Loaded::default()),
            refresh_lock: Mutex::new(()),
            skew,
        }
    }

    /// The current session; read from the vault the first time.
    pub(crate) async fn current(&self) -> Result<Option<StoredSession>> {
        let mut state = self.state.lock().await;
        if !state.loaded {
            state.session = self.vault.load().await?;
            state.loaded = true;
        }
        Ok(state.session.clone())
    }

    /// The current session, or [`Error::SignInRequired`].
    pub(crate) async fn required(&self) -> Result<StoredSession> {
        self.current().await?.ok_or(Error::SignInRequired)
    }

    /// Whether the access token expires within the skew; a session that
    /// cannot be refreshed uses its access token until it has expired.
    pub(crate) fn needs_refresh(&self, session: &StoredSession) -> bool {
        let skew = match session.refresh_token {
            Some(_) => self.skew,
            None => Duration::ZERO,
        };
        session.expires_at - skew <= OffsetDateTime::now_utc()
    }

    /// Stores a new session (keychain first, then memory).
    pub(crate) async fn replace(&self, session: StoredSession) -> Result<()> {
        let mut state = self.state.lock().await;
        self.vault.save(&session).await?;
        state.session = Some(session);
        state.loaded = true;
        Ok(())
    }

    /// Forgets the session (keychain first, then memory).
    pub(crate) async fn clear(&self) -> Result<()> {
        let mut state = self.state.lock().await;
        let purged = self.vault.purge().await;
        state.session = None;
        state.loaded = true;
        purged
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
        let session = self.required().await?;
        if !constant_time_eq(session.access_token.secret(), stale.secret()) {
            return Ok(session);
        }
        let Some(refresh_token) = session.refresh_token.clone() else {
            self.expire().await;
            return Err(Error::SessionExpired);
        };
        let provider = provider().await?;
        tracing::debug!("refreshing the access token");
        match provider.refresh(&refresh_token).await {
            Ok(tokens) => {
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
                            self.expire().await;
                            return Err(Error::SessionExpired);
                        }
                        None => session.account,
                    },
                };
                self.replace(renewed.clone()).await?;
                Ok(renewed)
            }
            Err(TokenFailure::Rejected(reason)) => {
                tracing::info!("refresh refused: {reason}");
                self.expire().await;
                Err(Error::SessionExpired)
            }
            Err(TokenFailure::Other(error)) => Err(error),
        }
    }

    async fn expire(&self) {
        if let Err(err) = self.clear().await {
            tracing::warn!("could not purge the expired session: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::vault::memory::MemoryStore;

    fn session(token: &str, expires_in: time::Duration) -> StoredSession {
        StoredSession {
            refresh_token: Some(crate::secret::RefreshToken::new("rt".into())),
            ..without_refresh_token(token, expires_in)
        }
    }

    fn without_refresh_token(token: &str, expires_in: time::Duration) -> StoredSession {
        StoredSession {
            access_token: AccessToken::new(token.into()),
            refresh_token: None,
            id_token: None,
            expires_at: OffsetDateTime::now_utc() + expires_in,
            account: Account {
                subject: "usr_1".into(),
                name: None,
                email: None,
                environment: "http://localhost".into(),
            },
        }
    }

    #[tokio::test]
    async fn session_is_read_from_the_vault_once_and_written_through() {
        let store = Arc::new(MemoryStore::default());
        let vault = TokenVault::new(store.clone(), "env|client");
        vault
            .save(&session("at-1", time::Duration::minutes(5)))
            .await
            .unwrap();
        let sessions = Sessions::new(vault, DEFAULT_REFRESH_SKEW);
        let current = sessions.required().await.unwrap();
        assert_eq!(current.access_token.secret(), "at-1");
        assert!(!sessions.needs_refresh(&current));

        sessions
            .replace(session("at-2", time::Duration::seconds(10)))
            .await
            .unwrap();
        let stored = store.entries.lock().unwrap().get("env|client").cloned();
        assert!(stored.unwrap().contains("at-2"));
        assert!(sessions.needs_refresh(&sessions.required().await.unwrap()));

        sessions.clear().await.unwrap();
        assert!(store.entries.lock().unwrap().is_empty());
        assert!(matches!(
            sessions.required().await,
            Err(Error::SignInRequired)
        ));
    }

    #[tokio::test]
    async fn without_a_refresh_token_the_session_lasts_until_expiry_then_asks_to_sign_in() {
        // Given a session without a refresh token, 10 s from expiry (within the skew)
        let store = Arc::new(MemoryStore::default());
        let vault = TokenVault::new(store.clone(), "env|client");
        let sessions = Sessions::new(vault, DEFAULT_REFRESH_SKEW);
        sessions
            .replace(without_refresh_token("at-1", time::Duration::seconds(10)))
            .await
            .unwrap();

        // Then it is used as it is: nothing to refresh it with
        let current = sessions.required().await.unwrap();
        assert!(!sessions.needs_refresh(&current));

        // When it has expired
        sessions
            .replace(without_refresh_token("at-1", time::Duration::seconds(-1)))
            .await
            .unwrap();
        let current = sessions.required().await.unwrap();
        assert!(sessions.needs_refresh(&current));
        let discovered = std::sync::atomic::AtomicBool::new(false);
        let error = sessions
            .refresh(
                || async {
                    discovered.store(true, std::sync::atomic::Ordering::SeqCst);
                    Err(Error::Network("the provider is unreachable".into()))
                },
                &current.access_token,
            )
            .await
            .unwrap_err();

        // Then the user is asked to sign in again, not told about the network,
        // and the keychain entry is gone
        assert!(matches!(error, Error::SessionExpired), "{error:?}");
        assert!(!discovered.load(std::sync::atomic::Ordering::SeqCst));
        assert!(store.entries.lock().unwrap().is_empty());
        assert!(matches!(
            sessions.required().await,
            Err(Error::SignInRequired)
        ));
    }
}
