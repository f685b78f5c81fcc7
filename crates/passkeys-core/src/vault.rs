//! The token vault: one OS keychain entry per (environment, client id).
//!
//! The session is stored as JSON. Windows limits a credential to 2,560 bytes
//! (UTF-16), so a long session is split across `<user>#1..n` entries and the
//! main entry holds `chunks:<n>`. A new chunked session is written to the
//! other set of names (`<user>#b1..n`, main entry `chunks:<n>:b`) and the main
//! entry is switched last, so a crash at any point leaves one whole session. Every keychain call runs off the async
//! runtime and is bounded by a timeout; a locked or missing keychain is an
//! [`Error::Keychain`], never a silent plain-text fallback.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::secret::{AccessToken, IdToken, RefreshToken};

/// Default bound on one keychain operation.
pub const DEFAULT_KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest chunk in UTF-16 code units (Windows: 2,560 bytes = 1,280 units).
const MAX_CHUNK_UNITS: usize = 1200;
const CHUNK_PREFIX: &str = "chunks:";

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

/// The OS keychain through `keyring` (Secret Service on Linux, Keychain on
/// macOS, Credential Manager on Windows).
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// A store for entries under `service` (e.g. `dev.passkeys.desktop`).
    pub fn new(service: impl Into<String>) -> KeyringStore {
        KeyringStore {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(keyring_error)
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keyring_error(err)),
        }
    }

    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.entry(account)?
            .set_password(secret)
            .map_err(keyring_error)
    }

    fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(keyring_error(err)),
        }
    }
}

fn keyring_error(err: keyring::Error) -> Error {
    match err {
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            Error::Keychain(format!(
                "The system keychain is locked or unavailable: {inner}. Unlock it (or start a keyring service) and try again."
            ))
        }
        other => Error::Keychain(format!("The system keychain refused the request: {other}.")),
    }
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
#[derive(Clone)]
pub struct TokenVault {
    store: Arc<dyn SecretStore>,
    account: String,
    timeout: Duration,
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

    /// A vault for an explicit keychain user name.
    pub fn new(store: Arc<dyn SecretStore>, account: impl Into<String>) -> TokenVault {
        TokenVault {
            store,
            account: account.into(),
            timeout: DEFAULT_KEYCHAIN_TIMEOUT,
        }
    }

    /// Changes the bound on each keychain operation.
    pub fn with_timeout(mut self, timeout: Duration) -> TokenVault {
        self.timeout = timeout;
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
        let text = self.run(read_chunked).await?;
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
        self.run(move |store, account| write_chunked(store, account, &text))
            .await
    }

    /// Deletes the session and all its chunks.
    ///
    /// # Errors
    /// [`Error::Keychain`] when the keychain fails or does not answer in time.
    pub async fn purge(&self) -> Result<()> {
        self.run(|store, account| {
            let layout = ChunkLayout::parse(store.get(account)?.as_deref());
            store.delete(account)?;
            match layout {
                Some(layout) => layout.delete_chunks(store, account),
                None => Ok(()),
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&dyn SecretStore, &str) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(&self.store);
        let account = self.account.clone();
        let task = tokio::task::spawn_blocking(move || operation(store.as_ref(), &account));
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(Error::Internal(format!("keychain task failed: {join}"))),
            Err(_) => Err(Error::Keychain(format!(
                "The system keychain did not answer within {} seconds. It may be locked or waiting for a password prompt; unlock it and try again.",
                self.timeout.as_secs()
            ))),
        }
    }
}

/// The two sets of chunk names a chunked session alternates between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkSet {
    /// `<user>#1..n`, main entry `chunks:<n>`.
    A,
    /// `<user>#b1..n`, main entry `chunks:<n>:b`.
    B,
}

/// Where the chunks of a stored session are, read from its main entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChunkLayout {
    count: usize,
    set: ChunkSet,
}

impl ChunkLayout {
    fn parse(main: Option<&str>) -> Option<ChunkLayout> {
        let rest = main?.strip_prefix(CHUNK_PREFIX)?;
        let (count, set) = match rest.split_once(':') {
            None => (rest, ChunkSet::A),
            Some((count, "b")) => (count, ChunkSet::B),
            Some(_) => return None,
        };
        Some(ChunkLayout {
            count: count.parse().ok()?,
            set,
        })
    }

    fn main_entry(&self) -> String {
        match self.set {
            ChunkSet::A => format!("{CHUNK_PREFIX}{}", self.count),
            ChunkSet::B => format!("{CHUNK_PREFIX}{}:b", self.count),
        }
    }

    fn chunk_name(&self, account: &str, index: usize) -> String {
        match self.set {
            ChunkSet::A => format!("{account}#{index}"),
            ChunkSet::B => format!("{account}#b{index}"),
        }
    }

    fn delete_chunks(&self, store: &dyn SecretStore, account: &str) -> Result<()> {
        for index in 1..=self.count {
            store.delete(&self.chunk_name(account, index))?;
        }
        Ok(())
    }
}

fn read_chunked(store: &dyn SecretStore, account: &str) -> Result<Option<String>> {
    let Some(main) = store.get(account)? else {
        return Ok(None);
    };
    let Some(layout) = ChunkLayout::parse(Some(&main)) else {
        return Ok(Some(main));
    };
    let mut text = String::new();
    for index in 1..=layout.count {
        match store.get(&layout.chunk_name(account, index))? {
            Some(chunk) => text.push_str(&chunk),
            None => {
                return Err(Error::Keychain(format!(
                    "The saved session is incomplete in the keychain (part {index} of {} is missing). Sign out and sign in again.",
                    layout.count
                )))
            }
        }
    }
    Ok(Some(text))
}

/// Writes the new chunks beside the current ones, switches the main entry
/// (one atomic keychain write), then deletes the previous chunks.
fn write_chunked(store: &dyn SecretStore, account: &str, text: &str) -> Result<()> {
    let previous = ChunkLayout::parse(store.get(account)?.as_deref());
    let chunks = split_utf16(text, MAX_CHUNK_UNITS);
    if chunks.len() <= 1 {
        store.set(account, text)?;
    } else {
        let layout = ChunkLayout {
            count: chunks.len(),
            set: match previous {
                Some(ChunkLayout {
                    set: ChunkSet::A, ..
                }) => ChunkSet::B,
                _ => ChunkSet::A,
            },
        };
        for (index, chunk) in chunks.iter().enumerate() {
            store.set(&layout.chunk_name(account, index + 1), chunk)?;
        }
        store.set(account, &layout.main_entry())?;
    }
    match previous {
        Some(previous) => previous.delete_chunks(store, account),
        None => Ok(()),
    }
}

/// Splits on char boundaries into pieces of at most `max_units` UTF-16 code units.
fn split_utf16(text: &str, max_units: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut units = 0;
    for ch in text.chars() {
        if units + ch.len_utf16() > max_units {
            pieces.push(std::mem::take(&mut current));
            units = 0;
        }
        units += ch.len_utf16();
        current.push(ch);
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// An in-memory store for unit tests of other modules; never in production paths.
#[cfg(test)]
pub(crate) mod memory {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::SecretStore;
    use crate::error::Result;

    #[derive(Default)]
    pub(crate) struct MemoryStore {
        pub(crate) entries: Mutex<HashMap<String, String>>,
    }

    impl SecretStore for MemoryStore {
        fn get(&self, account: &str) -> Result<Option<String>> {
            Ok(self.entries.lock().unwrap().get(account).cloned())
        }
        fn set(&self, account: &str, secret: &str) -> Result<()> {
            self.entries
                .lock()
                .unwrap()
                .insert(account.into(), secret.into());
            Ok(())
        }
        fn delete(&self, account: &str) -> Result<()> {
            self.entries.lock().unwrap().remove(account);
            Ok(())
        }
    }
}

#[cfg(test)]
#[path = "vault_tests.rs"]
mod tests;
