//! The production [`SecretStore`]: the OS keychain through `keyring`.

use super::SecretStore;
use crate::error::{Error, Result};

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

pub(crate) fn keyring_error(err: keyring::Error) -> Error {
    match err {
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            Error::Keychain(format!(
                "The system keychain is locked or unavailable: {inner}. Unlock it (or start a keyring service) and try again."
            ))
        }
        other => Error::Keychain(format!("The system keychain refused the request: {other}.")),
    }
}
