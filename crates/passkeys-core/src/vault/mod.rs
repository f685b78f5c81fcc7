//! The token vault: one OS keychain entry per (environment, client id).
//!
//! The session is stored as JSON, in one keychain entry where the keychain
//! allows it (macOS Keychain, Secret Service) and in chunks where it does
//! not (Windows Credential Manager); `layout.rs` has the details. A save
//! reads nothing first where one entry holds the session: it writes the main
//! entry once, and deletes chunks only when this vault knows some may be
//! there (an earlier version's, read by its last load). Every keychain
//! operation runs off the async runtime, one at a time per vault, and is
//! bounded by a timeout; a locked or missing keychain is an
//! [`Error::Keychain`], never a silent plain-text fallback.
//!
//! The production store is [`KeyringStore`] (`keyring_store.rs`, on Linux
//! through `secret_service.rs`); tests use `memory.rs`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::secret::{AccessToken, IdToken, RefreshToken};

mod keyring_store;
mod layout;
#[cfg(target_os = "linux")]
mod secret_service;

pub use keyring_store::KeyringStore;
use layout::{Known, Layout};

/// Default bound on one keychain operation.
pub const DEFAULT_KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Storage for one secret string per account name, under one service.
///
/// Calls block (they talk to the OS); [`TokenVault`] runs them off the runtime.
/// Production: [`KeyringStore`].
pub trait SecretStore: Send + Sync + 'static {
    /// Reads the secret stored for `account`, `None` when there is none.
    ///
    /// # Errors
    /// [`Error::Keychain`] when the keychain is locked, missing or fails.
    fn get(&self, account: &str) -> Result<Option<String>>;
    /// Stores `secret` for `account`, replacing what was there.
    ///
    /// # Errors
    /// [`Error::Keychain`] as for `get`.
    fn set(&self, account: &str, secret: &str) -> Result<()>;
    /// Deletes the secret for `account`; no entry is not an error.
    ///
    /// # Errors
    /// [`Error::Keychain`] as for `get`.
    fn delete(&self, account: &str) -> Result<()>;
}

/// The signed-in user, as shown in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The ID token's `sub` (`usr_…`).
    pub subject: String,
    /// `name`, or given + family name, when present.
    pub name: Option<String>,
    /// `email`, when present.
    pub email: Option<String>,
    /// The environment URL.
    pub environment: String,
}

/// What the vault keeps for one signed-in session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredSession {
    /// The current access token.
    pub access_token: AccessToken,
    /// The current refresh token (rotates on every refresh).
    pub refresh_token: Option<RefreshToken>,
    /// The latest ID token (for `id_token_hint`).
    pub id_token: Option<IdToken>,
    /// When the access token expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Who is signed in.
    pub account: Account,
}

/// Keeps the [`StoredSession`] of one (environment, client id) in a [`SecretStore`].
///
/// Clones share what the vault knows of the keychain and run their keychain
/// operations one at a time.
#[derive(Clone)]
pub struct TokenVault {
    store: Arc<dyn SecretStore>,
    account: String,
    timeout: Duration,
    layout: Layout,
    known: Arc<Mutex<Known>>,
}

impl TokenVault {
    /// A vault for `config`'s environment and client id: the keychain user is
    /// `<environment url>|<client id>`.
    pub fn for_config(config: &Config, store: Arc<dyn SecretStore>) -> TokenVault {
        TokenVault::new(
            store,
            format!("{}|{}", config.environment_url, config.client_id),
        )
    }

    /// A vault for an explicit keychain user name, laid out for this
    /// platform's keychain (chunks on Windows, one entry elsewhere).
    pub fn new(store: Arc<dyn SecretStore>, account: impl Into<String>) -> TokenVault {
        TokenVault {
            store,
            account: account.into(),
            timeout: DEFAULT_KEYCHAIN_TIMEOUT,
            layout: Layout::for_this_platform(),
            known: Arc::default(),
        }
    }

    /// Changes the bound on each keychain operation.
    pub fn with_timeout(mut self, timeout: Duration) -> TokenVault {
        self.timeout = timeout;
        self
    }

    /// Splits sessions longer than `max_units` UTF-16 code units across
    /// several entries, as Windows Credential Manager needs (1,200 there,
    /// the default on Windows). A crash in the middle of a save leaves the
    /// previous session or the new one, whole.
    pub fn with_chunks_of(mut self, max_units: usize) -> TokenVault {
        self.layout = Layout::Chunked { max_units };
        self
    }

    /// Keeps the whole session in one entry (the default on macOS and Linux).
    pub fn with_single_entry(mut self) -> TokenVault {
        self.layout = Layout::SingleEntry;
        self
    }

    /// The keychain user name.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Reads the stored session. A damaged entry is purged and reads as `None`.
    ///
    /// # Errors
    /// [`Error::Keychain`] when the keychain fails or does not answer in time.
    pub async fn load(&self) -> Result<Option<StoredSession>> {
        let text = self.run(layout::read).await?;
        let Some(text) = text else { return Ok(None) };
        match serde_json::from_str::<StoredSession>(&text) {
            Ok(session) => Ok(Some(session)),
            Err(err) => {
                tracing::warn!("the stored session is damaged ({err}); purging it");
                self.purge().await?;
                Ok(None)
            }
        }
    }

    /// Stores the session, replacing the previous one.
    ///
    /// # Errors
    /// [`Error::Keychain`] when the keychain fails or does not answer in time.
    pub async fn save(&self, session: &StoredSession) -> Result<()> {
        let text = serde_json::to_string(session)
            .map_err(|err| Error::Internal(format!("cannot serialise the session: {err}")))?;
        let layout = self.layout;
        self.run(move |store, account, known| layout::write(store, account, known, layout, &text))
            .await
    }

    /// Deletes the session and all its chunks, also those of a session this
    /// vault never loaded.
    ///
    /// # Errors
    /// [`Error::Keychain`] when the keychain fails or does not answer in time.
    pub async fn purge(&self) -> Result<()> {
        self.run(layout::purge).await
    }

    /// Runs `operation` off the runtime, after the vault's earlier ones,
    /// bounded by the timeout from now. An operation that only gets its turn
    /// after its caller gave up does not touch the keychain.
    async fn run<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&dyn SecretStore, &str, &mut Known) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(&self.store);
        let account = self.account.clone();
        let known = Arc::clone(&self.known);
        let timeout = self.timeout;
        let deadline = Instant::now() + timeout;
        let task = tokio::task::spawn_blocking(move || {
            let mut known = known.lock().unwrap_or_else(PoisonError::into_inner);
            if Instant::now() >= deadline {
                return Err(not_answered(timeout));
            }
            operation(store.as_ref(), &account, &mut known)
        });
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(Error::Internal(format!("keychain task failed: {join}"))),
            Err(_) => Err(not_answered(timeout)),
        }
    }
}

fn not_answered(timeout: Duration) -> Error {
    Error::Keychain(format!(
        "The system keychain did not answer within {} seconds. It may be locked or waiting for a password prompt; unlock it and try again. {}",
        timeout.as_secs(),
        crate::doctor::keychain::SEE_DOCTOR
    ))
}

/// An in-memory store for unit tests of other modules; never in production paths.
#[cfg(test)]
pub(crate) mod memory;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod layout_tests;
