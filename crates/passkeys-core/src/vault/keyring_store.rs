//! The production [`SecretStore`]: the OS keychain, on Linux through one
//! Secret Service session kept open (`secret_service.rs`), elsewhere
//! through `keyring`.

#[cfg(target_os = "linux")]
use std::sync::Arc;

use super::SecretStore;
use crate::doctor::keychain::SEE_DOCTOR;
use crate::error::{Error, Result};

#[cfg(target_os = "linux")]
use super::secret_service::PersistentSession;

/// The OS keychain (Secret Service on Linux, Keychain on macOS, Credential
/// Manager on Windows).
///
/// On Linux a store keeps one D-Bus connection and one encrypted Secret
/// Service session for its lifetime (clones share them), writing the same
/// items as `keyring` 3 would.
#[derive(Clone)]
pub struct KeyringStore {
    service: String,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    /// One `keyring` entry (on Linux a new connection and session) per call.
    EntryPerCall,
    /// One Secret Service session for the store's lifetime.
    #[cfg(target_os = "linux")]
    Session(Arc<PersistentSession>),
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.backend {
            Backend::EntryPerCall => "entry per call",
            #[cfg(target_os = "linux")]
            Backend::Session(_) => "persistent Secret Service session",
        };
        f.debug_struct("KeyringStore")
            .field("service", &self.service)
            .field("backend", &backend)
            .finish()
    }
}

impl KeyringStore {
    /// A store for entries under `service` (e.g. `dev.passkeys.desktop`).
    /// Connects on its first call, not here.
    pub fn new(service: impl Into<String>) -> KeyringStore {
        KeyringStore {
            service: service.into(),
            #[cfg(target_os = "linux")]
            backend: Backend::Session(Arc::new(PersistentSession::new())),
            #[cfg(not(target_os = "linux"))]
            backend: Backend::EntryPerCall,
        }
    }

    /// A store that makes one `keyring` entry per call (on Linux: a new
    /// D-Bus connection and Secret Service session each time), as earlier
    /// versions did; the same items as [`KeyringStore::new`]'s. For
    /// comparisons; elsewhere than Linux it is what `new` gives.
    pub fn entry_per_call(service: impl Into<String>) -> KeyringStore {
        KeyringStore {
            service: service.into(),
            backend: Backend::EntryPerCall,
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(keyring_error)
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        #[cfg(target_os = "linux")]
        if let Backend::Session(session) = &self.backend {
            return session.get(&self.service, account);
        }
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keyring_error(err)),
        }
    }

    fn set(&self, account: &str, secret: &str) -> Result<()> {
        #[cfg(target_os = "linux")]
        if let Backend::Session(session) = &self.backend {
            return session.set(&self.service, account, secret);
        }
        self.entry(account)?
            .set_password(secret)
            .map_err(keyring_error)
    }

    fn delete(&self, account: &str) -> Result<()> {
        #[cfg(target_os = "linux")]
        if let Backend::Session(session) = &self.backend {
            return session.delete(&self.service, account);
        }
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(keyring_error(err)),
        }
    }
}

pub(crate) fn keyring_error(err: keyring::Error) -> Error {
    match err {
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            Error::Keychain(format!(
                "The system keychain is locked or unavailable: {inner}. Unlock it (or start a keyring service) and try again. {SEE_DOCTOR}"
            ))
        }
        other => Error::Keychain(format!(
            "The system keychain refused the request: {other}. {SEE_DOCTOR}"
        )),
    }
}
