//! The keychain: a Secret Service / Keychain / Credential Manager is
//! reachable and unlocked, and a test item round-trips (and is deleted).
//!
//! Also the messages every keychain failure carries on Linux: which piece is
//! missing (the D-Bus session bus, the Secret Service, an unlocked
//! collection) and `passkeys-desktop doctor` (the vault uses
//! [`unavailable`]).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Check, CHECK_TIMEOUT};
use crate::error::Error;
use crate::vault::{KeyringStore, SecretStore};

/// What every keychain message ends with.
pub(crate) const SEE_DOCTOR: &str = "`passkeys-desktop doctor` checks the keychain.";

/// What is missing when the keychain cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// No D-Bus session bus (Linux: `DBUS_SESSION_BUS_ADDRESS` unset or dead).
    SessionBus,
    /// A session bus, but no Secret Service on it (no GNOME Keyring or KWallet).
    SecretService,
    /// A Secret Service with no default keyring (collection) to keep items in.
    DefaultCollection,
}

/// The keychain's state, found without prompting anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeychainStatus {
    /// Reachable and unlocked.
    Available,
    /// Reachable, but the collection that keeps the session is locked.
    Locked,
    /// Not reachable.
    Missing(Missing),
    /// Reachable, but it failed.
    Failed(String),
}

/// The keychain seam of the doctor: its state, and a store to round-trip a
/// test item through.
pub trait KeychainProbe: Send + Sync + 'static {
    /// The keychain's state. Blocks (the doctor calls it off the runtime);
    /// never prompts.
    fn status(&self) -> KeychainStatus;
    /// The store the app keeps its sessions in.
    fn store(&self) -> Arc<dyn SecretStore>;
}

/// The system's keychain, under the app's keychain service name.
#[derive(Debug, Clone)]
pub struct SystemKeychain {
    store: KeyringStore,
}

impl SystemKeychain {
    /// The keychain under `service` (the app's `keychain_service`).
    pub fn new(service: impl Into<String>) -> SystemKeychain {
        SystemKeychain {
            store: KeyringStore::new(service),
        }
    }
}

impl KeychainProbe for SystemKeychain {
    #[cfg(target_os = "linux")]
    fn status(&self) -> KeychainStatus {
        use dbus_secret_service::{EncryptionType, SecretService};
        // Never prompts: a locked collection is reported, not unlocked.
        let service = match SecretService::connect_with_max_prompt_timeout(EncryptionType::Dh, 0) {
            Ok(service) => service,
            Err(error) => return status_of(&error),
        };
        let collection = match service.get_default_collection() {
            Ok(collection) => collection,
            Err(dbus_secret_service::Error::NoResult) => {
                return KeychainStatus::Missing(Missing::DefaultCollection)
            }
            Err(error) => return status_of(&error),
        };
        match collection.is_locked() {
            Ok(true) => KeychainStatus::Locked,
            Ok(false) => KeychainStatus::Available,
            Err(error) => status_of(&error),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn status(&self) -> KeychainStatus {
        // The Keychain and the Credential Manager are part of the system:
        // the round trip tells whether they work.
        KeychainStatus::Available
    }

    fn store(&self) -> Arc<dyn SecretStore> {
        Arc::new(self.store.clone())
    }
}

/// What a Secret Service error says about the keychain.
#[cfg(target_os = "linux")]
pub(crate) fn status_of(error: &dbus_secret_service::Error) -> KeychainStatus {
    use dbus_secret_service::Error as SsError;
    match error {
        SsError::Locked => KeychainStatus::Locked,
        SsError::Unavailable => KeychainStatus::Missing(Missing::SecretService),
        SsError::Dbus(dbus) => match classify_dbus_error(dbus.name()) {
            Some(Problem::Missing(missing)) => KeychainStatus::Missing(missing),
            Some(Problem::Locked) => KeychainStatus::Locked,
            None => KeychainStatus::Failed(error.to_string()),
        },
        other => KeychainStatus::Failed(other.to_string()),
    }
}

/// The [`Error::Keychain`] for a failed Secret Service call: the missing
/// piece or the locked collection by name when the error tells, else the
/// system's words; always pointing to the doctor.
#[cfg(target_os = "linux")]
pub(crate) fn service_error(error: &dbus_secret_service::Error) -> Error {
    // The vault's only lookup that can find nothing is the default collection's.
    if let dbus_secret_service::Error::NoResult = error {
        return unavailable(
            &KeychainStatus::Missing(Missing::DefaultCollection),
            &error.to_string(),
        );
    }
    match status_of(error) {
        KeychainStatus::Failed(_) | KeychainStatus::Available => Error::Keychain(format!(
            "The system keychain is locked or unavailable: {error}. Unlock it (or start a keyring service) and try again. {SEE_DOCTOR}"
        )),
        status => unavailable(&status, &error.to_string()),
    }
}

/// What a D-Bus error name means for the keychain.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// A piece is missing.
    Missing(Missing),
    /// The collection is locked.
    Locked,
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
/// Classifies a D-Bus error by name: no bus, no Secret Service, or locked.
pub(crate) fn classify_dbus_error(name: Option<&str>) -> Option<Problem> {
    let name = name?;
    let bus_missing = [
        "org.freedesktop.DBus.Error.NoServer",
        "org.freedesktop.DBus.Error.FileNotFound",
        "org.freedesktop.DBus.Error.NotSupported",
        "org.freedesktop.DBus.Error.BadAddress",
        "org.freedesktop.DBus.Error.NoNetwork",
        "org.freedesktop.DBus.Error.Disconnected",
        "org.freedesktop.DBus.Error.AccessDenied",
    ];
    let service_missing = [
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.UnknownObject",
    ];
    if bus_missing.contains(&name) {
        Some(Problem::Missing(Missing::SessionBus))
    } else if service_missing.contains(&name)
        || name.starts_with("org.freedesktop.DBus.Error.Spawn")
    {
        Some(Problem::Missing(Missing::SecretService))
    } else if name == "org.freedesktop.Secret.Error.IsLocked" {
        Some(Problem::Locked)
    } else {
        None
    }
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
/// The [`Error::Keychain`] for a keychain that cannot be used, naming what
/// is missing and the doctor; `detail` is the system's own words.
pub(crate) fn unavailable(status: &KeychainStatus, detail: &str) -> Error {
    let (what, fix) = describe(status);
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    };
    Error::Keychain(format!("{what}{detail}. {fix} {SEE_DOCTOR}"))
}

/// What is wrong, and the one thing to do.
fn describe(status: &KeychainStatus) -> (String, &'static str) {
    match status {
        KeychainStatus::Missing(Missing::SessionBus) => (
            "There is no D-Bus session bus, so the Secret Service that keeps your sign-in (the keychain) cannot be reached".into(),
            "Run the app in a desktop session, or start one with `dbus-run-session` and a keyring (GNOME Keyring or KWallet); your sign-in is not stored anywhere else.",
        ),
        KeychainStatus::Missing(Missing::SecretService) => (
            "No Secret Service (the keychain: GNOME Keyring or KWallet) is running on the D-Bus session bus, so your sign-in cannot be kept".into(),
            "Install and start one, e.g. `gnome-keyring-daemon --start --components=secrets`; your sign-in is not stored anywhere else.",
        ),
        KeychainStatus::Missing(Missing::DefaultCollection) => (
            "The Secret Service has no default keyring, so your sign-in has nowhere to be kept".into(),
            "Create one and make it the default (GNOME: Passwords and Keys, File > New > Password Keyring), or log in to a desktop session that unlocks the login keyring.",
        ),
        KeychainStatus::Locked => (
            "The keychain (the Secret Service's default collection) is locked".into(),
            "Unlock it (log in to the desktop session, or unlock the \"Login\" keyring in Passwords and Keys / Seahorse) and try again.",
        ),
        KeychainStatus::Failed(why) => (
            format!("The system keychain failed: {why}"),
            "Restart the keyring service (or log out and in again) and try again.",
        ),
        KeychainStatus::Available => (
            "The system keychain refused the request".into(),
            "Try again.",
        ),
    }
}

/// The `keychain` check: the state, then a round trip of a test item.
pub(super) async fn check(probe: Arc<dyn KeychainProbe>) -> Check {
    let task = tokio::task::spawn_blocking(move || {
        let status = probe.status();
        if status != KeychainStatus::Available {
            return Err(status);
        }
        round_trip(probe.store().as_ref()).map_err(KeychainStatus::Failed)
    });
    let outcome = match tokio::time::timeout(CHECK_TIMEOUT, task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(join)) => Err(KeychainStatus::Failed(format!("the check stopped: {join}"))),
        Err(_) => Err(KeychainStatus::Failed(format!(
            "it did not answer within {} seconds (a password prompt nobody answers?)",
            CHECK_TIMEOUT.as_secs()
        ))),
    };
    match outcome {
        Ok(()) => Check::ok(
            "keychain",
            "Reachable and unlocked; a test item was written, read back and deleted.",
        ),
        Err(status) => {
            let (what, fix) = describe(&status);
            Check::fail("keychain", format!("{what}."), fix)
        }
    }
}

/// Writes, reads back and deletes a test item under a name of its own.
fn round_trip(store: &dyn SecretStore) -> Result<(), String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let account = format!("passkeys-doctor-{}-{nanos}", std::process::id());
    let value = format!("doctor test item {nanos}");
    let plain = |error: Error| error.to_string();
    store.set(&account, &value).map_err(plain)?;
    let read = store.get(&account).map_err(plain);
    let deleted = store.delete(&account).map_err(plain);
    match read? {
        Some(read) if read == value => {}
        Some(_) => return Err("the test item read back differs from what was written".into()),
        None => return Err("the test item written could not be read back".into()),
    }
    deleted?;
    match store.get(&account).map_err(plain)? {
        None => Ok(()),
        Some(_) => Err("the test item could not be deleted".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn d_bus_errors_name_the_missing_piece() {
        let table = [
            (
                "org.freedesktop.DBus.Error.NoServer",
                Some(Problem::Missing(Missing::SessionBus)),
            ),
            (
                "org.freedesktop.DBus.Error.FileNotFound",
                Some(Problem::Missing(Missing::SessionBus)),
            ),
            (
                "org.freedesktop.DBus.Error.NotSupported",
                Some(Problem::Missing(Missing::SessionBus)),
            ),
            (
                "org.freedesktop.DBus.Error.ServiceUnknown",
                Some(Problem::Missing(Missing::SecretService)),
            ),
            (
                "org.freedesktop.DBus.Error.Spawn.ChildExited",
                Some(Problem::Missing(Missing::SecretService)),
            ),
            (
                "org.freedesktop.Secret.Error.IsLocked",
                Some(Problem::Locked),
            ),
            ("org.freedesktop.DBus.Error.NoReply", None),
        ];
        for (name, problem) in table {
            assert_eq!(classify_dbus_error(Some(name)), problem, "{name}");
        }
        assert_eq!(classify_dbus_error(None), None);
    }

    #[test]
    fn every_unavailable_keychain_names_the_piece_and_the_doctor() {
        let table = [
            (
                KeychainStatus::Missing(Missing::SessionBus),
                "no D-Bus session bus",
            ),
            (
                KeychainStatus::Missing(Missing::SecretService),
                "No Secret Service",
            ),
            (KeychainStatus::Locked, "is locked"),
            (
                KeychainStatus::Missing(Missing::DefaultCollection),
                "no default keyring",
            ),
        ];
        for (status, piece) in table {
            let error = unavailable(&status, "the system's words");
            assert_eq!(error.kind(), ErrorKind::Keychain);
            let message = error.to_string();
            assert!(message.contains(piece), "{message}");
            assert!(message.contains("passkeys-desktop doctor"), "{message}");
            assert!(message.contains("the system's words"), "{message}");
            if let KeychainStatus::Missing(Missing::SessionBus | Missing::SecretService) = status {
                assert!(message.contains("not stored anywhere else"), "{message}");
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn secret_service_errors_become_messages_that_name_the_doctor() {
        use dbus_secret_service::Error as SsError;
        let missing = service_error(&SsError::Unavailable).to_string();
        assert!(missing.contains("No Secret Service"), "{missing}");
        let locked = service_error(&SsError::Locked).to_string();
        assert!(locked.contains("is locked"), "{locked}");
        let no_keyring = service_error(&SsError::NoResult).to_string();
        assert!(no_keyring.contains("no default keyring"), "{no_keyring}");
        let other = service_error(&SsError::Prompt).to_string();
        assert!(other.contains("locked or unavailable"), "{other}");
        for message in [missing, locked, other] {
            assert!(message.contains("passkeys-desktop doctor"), "{message}");
        }
    }
}
