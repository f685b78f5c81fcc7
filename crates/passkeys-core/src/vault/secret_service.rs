//! The Secret Service (Linux) through one D-Bus connection and one encrypted
//! session kept for the process's lifetime.
//!
//! `keyring` opens a new connection and negotiates a new Diffie-Hellman
//! session for every call, and looks an item up before it writes it: a
//! rotation costs two key exchanges and four round trips. Here a save is one
//! `CreateItem` (replacing) on the default collection, a read one
//! `SearchItems` and one `GetSecret`, a delete one `SearchItems` and one
//! `Delete` per item found. Items carry `keyring` 3's attributes and label, so
//! each reads, replaces and deletes what the other wrote. Secrets travel
//! encrypted (a DH session), never in plain text. A connection lost (the
//! daemon restarted, the bus went away) is opened again once per call.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use dbus_secret_service::{
    Collection, EncryptionType, Error as SsError, Item, Path, SecretService,
};
use keyring::secret_service::SsCredential;

use crate::error::{Error, Result};

/// What `keyring` stores its secrets as.
const CONTENT_TYPE: &str = "text/plain";
/// How long an unlock prompt may stay open before it is dismissed, so that a
/// prompt nobody answers does not hold the connection for ever (the vault
/// gives up on the call itself much sooner).
const PROMPT_SECONDS: u64 = 60;
/// The Secret Service's answer to a write into a locked collection.
const IS_LOCKED: &str = "org.freedesktop.Secret.Error.IsLocked";

/// One connection with its encrypted session, and the default collection's
/// object path once looked up.
struct Connected {
    service: SecretService,
    default_collection: Option<Path<'static>>,
}

impl Connected {
    fn open() -> Outcome<Connected> {
        Ok(Connected {
            service: SecretService::connect_with_max_prompt_timeout(
                EncryptionType::Dh,
                PROMPT_SECONDS,
            )?,
            default_collection: None,
        })
    }

    fn default_collection(&mut self) -> Outcome<Collection<'_>> {
        let path = match &self.default_collection {
            Some(path) => path.clone(),
            None => {
                let path = self.service.get_default_collection()?.path;
                self.default_collection = Some(path.clone());
                path
            }
        };
        Ok(Collection::new(&self.service, path))
    }

    /// The items matching `credential`'s search attributes (as `keyring`
    /// searches them: all collections, `target`, `service` and `username`),
    /// unlocked (the Secret Service may prompt for the keyring's password,
    /// as it does for `keyring`).
    fn matching(&self, credential: &SsCredential) -> Outcome<Vec<Item<'_>>> {
        let search: HashMap<&str, &str> = ["target", "service", "username"]
            .into_iter()
            .filter_map(|name| {
                credential
                    .attributes
                    .get(name)
                    .map(|value| (name, value.as_str()))
            })
            .collect();
        let found = self.service.search_items(search)?;
        let mut items = found.unlocked;
        for item in found.locked {
            // As keyring does: the Secret Service may prompt for the password.
            item.unlock()?;
            items.push(item);
        }
        Ok(items)
    }
}

/// Why a call failed.
#[derive(Debug)]
enum Failure {
    /// The Secret Service (or the bus) answered with an error.
    Service(SsError),
    /// Several items match one account (not written by this store or `keyring`).
    Ambiguous(usize),
    /// The stored secret is not UTF-8 text.
    NotText,
}

impl From<SsError> for Failure {
    fn from(err: SsError) -> Failure {
        Failure::Service(err)
    }
}

type Outcome<T> = std::result::Result<T, Failure>;

impl Failure {
    /// Whether a new connection may succeed where this one failed: any bus
    /// or service error (the daemon restarted and forgot the session, the
    /// bus closed, a reply never came) other than a locked keyring.
    fn connection_may_be_lost(&self) -> bool {
        match self {
            Failure::Service(SsError::Dbus(err)) => err.name() != Some(IS_LOCKED),
            Failure::Service(SsError::Crypto(_) | SsError::Parse) => true,
            _ => false,
        }
    }

    fn into_error(self) -> Error {
        match self {
            // Names the missing piece (no session bus, no Secret Service,
            // locked) and the doctor.
            Failure::Service(err) => crate::doctor::keychain::service_error(&err),
            Failure::Ambiguous(count) => Error::Keychain(format!(
                "The system keychain refused the request: {count} entries match one account."
            )),
            Failure::NotText => Error::Keychain(
                "The system keychain refused the request: the stored entry is not text.".into(),
            ),
        }
    }
}

/// The Secret Service session a [`super::KeyringStore`] keeps on Linux.
pub(crate) struct PersistentSession {
    connected: Mutex<Option<Connected>>,
}

impl PersistentSession {
    /// Not connected yet: the first call connects.
    pub(crate) fn new() -> PersistentSession {
        PersistentSession {
            connected: Mutex::new(None),
        }
    }

    /// `SearchItems`, then `GetSecret` on the one item found.
    pub(crate) fn get(&self, service: &str, account: &str) -> Result<Option<String>> {
        let credential = credential(service, account)?;
        let secret = self.with_connection(|connected| {
            let items = connected.matching(&credential)?;
            match items.as_slice() {
                [] => Ok(None),
                [item] => Ok(Some(item.get_secret()?)),
                more => Err(Failure::Ambiguous(more.len())),
            }
        });
        match secret {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| Failure::NotText.into_error()),
            Err(failure) => Err(failure.into_error()),
        }
    }

    /// One `CreateItem` replacing the item with the same attributes in the
    /// default collection (after unlocking it when it is locked).
    pub(crate) fn set(&self, service: &str, account: &str, secret: &str) -> Result<()> {
        let credential = credential(service, account)?;
        let attributes: HashMap<&str, &str> = credential
            .attributes
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        self.with_connection(|connected| {
            let collection = connected.default_collection()?;
            let create = || {
                collection.create_item(
                    &credential.label,
                    attributes.clone(),
                    secret.as_bytes(),
                    true,
                    CONTENT_TYPE,
                )
            };
            match create() {
                Err(SsError::Dbus(err)) if err.name() == Some(IS_LOCKED) => {
                    // As keyring does: the Secret Service may prompt.
                    collection.unlock()?;
                    create()?;
                }
                created => {
                    created?;
                }
            }
            Ok(())
        })
        .map_err(Failure::into_error)
    }

    /// `SearchItems`, then `Delete` on every item found; none is not an error.
    pub(crate) fn delete(&self, service: &str, account: &str) -> Result<()> {
        let credential = credential(service, account)?;
        self.with_connection(|connected| {
            for item in connected.matching(&credential)? {
                item.delete()?;
            }
            Ok(())
        })
        .map_err(Failure::into_error)
    }

    /// Runs `operation` on the open connection (opening one if there is
    /// none); when it fails as a lost connection would, once more on a new one.
    fn with_connection<T>(&self, operation: impl Fn(&mut Connected) -> Outcome<T>) -> Outcome<T> {
        let mut slot = self
            .connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (mut connected, reused) = match slot.take() {
            Some(connected) => (connected, true),
            None => (Connected::open()?, false),
        };
        let mut outcome = operation(&mut connected);
        if reused && outcome.as_ref().is_err_and(Failure::connection_may_be_lost) {
            tracing::info!("the Secret Service connection failed; opening a new one");
            drop(connected);
            connected = Connected::open()?;
            outcome = operation(&mut connected);
        }
        *slot = Some(connected);
        outcome
    }
}

/// `keyring`'s own description of the item (default target): its attributes
/// and label, so both find and write the same items.
fn credential(service: &str, account: &str) -> Result<SsCredential> {
    SsCredential::new_with_target(None, service, account)
        .map_err(|err| Error::Keychain(format!("The system keychain refused the request: {err}.")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn a_locked_or_dismissed_keyring_is_not_retried_on_a_new_connection() {
        for kept in [SsError::Locked, SsError::Prompt, SsError::NoResult] {
            assert!(!Failure::Service(kept).connection_may_be_lost());
        }
        assert!(!Failure::Ambiguous(2).connection_may_be_lost());
        assert!(Failure::Service(SsError::Parse).connection_may_be_lost());
    }

    #[test]
    fn failures_are_keychain_errors_that_say_what_to_do() {
        let locked = Failure::Service(SsError::Prompt).into_error();
        assert_eq!(locked.kind(), ErrorKind::Keychain);
        assert!(
            locked.to_string().contains("locked or unavailable"),
            "{locked}"
        );
        assert!(locked.to_string().contains("Unlock it"), "{locked}");
        let ambiguous = Failure::Ambiguous(2).into_error();
        assert_eq!(ambiguous.kind(), ErrorKind::Keychain);
        assert!(ambiguous.to_string().contains("2 entries"), "{ambiguous}");
        assert_eq!(Failure::NotText.into_error().kind(), ErrorKind::Keychain);
    }

    #[test]
    fn items_are_described_as_keyring_describes_them() {
        let item = credential("dev.passkeys.desktop", "http://localhost:4000/|ntvc_demo").unwrap();
        assert_eq!(item.attributes["service"], "dev.passkeys.desktop");
        assert_eq!(
            item.attributes["username"],
            "http://localhost:4000/|ntvc_demo"
        );
        assert_eq!(item.attributes["target"], "default");
        assert_eq!(item.attributes["application"], "rust-keyring");
        assert!(item
            .label
            .starts_with("http://localhost:4000/|ntvc_demo@dev.passkeys.desktop:default"));
    }
}
