//! The accounts file: which accounts are signed in and which one is
//! current, with the identity cached from each account's ID token. It holds
//! no secret (the tokens are in the keychain) and is written readable by its
//! owner only, replaced whole (a temporary file renamed over it).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The accounts file's name in the app's data directory.
pub const ACCOUNTS_FILE: &str = "accounts.json";

/// Which (environment, client, user) an account is; also its keychain
/// entry's user name, `<environment url>|<client id>|<subject>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountId {
    /// The environment (issuer) URL.
    pub issuer: String,
    /// The native client's id.
    pub client_id: String,
    /// The ID token's `sub`.
    pub subject: String,
}

impl AccountId {
    /// The account's key: its keychain entry's user name, and how the UI
    /// names it to the commands.
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.issuer, self.client_id, self.subject)
    }
}

/// An account as the file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KnownAccount {
    pub(crate) id: AccountId,
    /// The environment's name when the account signed in.
    pub(crate) environment: String,
    /// The issuer as the environment names it (the ID token's `iss`).
    #[serde(default)]
    pub(crate) issuer_name: String,
    pub(crate) email: Option<String>,
    pub(crate) name: Option<String>,
}

/// The file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct State {
    /// The current account's key.
    pub(crate) current: Option<String>,
    pub(crate) accounts: Vec<KnownAccount>,
}

impl State {
    pub(crate) fn find(&self, key: &str) -> Option<&KnownAccount> {
        self.accounts.iter().find(|account| account.id.key() == key)
    }

    /// Adds or updates `account` (same key: the newer identity wins).
    pub(crate) fn upsert(&mut self, account: KnownAccount) {
        match self
            .accounts
            .iter_mut()
            .find(|known| known.id == account.id)
        {
            Some(known) => *known = account,
            None => self.accounts.push(account),
        }
    }

    /// Removes the account `key`; a current one is replaced by the first left.
    pub(crate) fn remove(&mut self, key: &str) {
        self.accounts.retain(|account| account.id.key() != key);
        if self.current.as_deref() == Some(key) {
            self.current = self.accounts.first().map(|account| account.id.key());
        }
    }
}

/// Where the file is: a path, or nowhere (kept in memory, for tests).
#[derive(Debug, Clone)]
pub(crate) struct StateFile(pub(crate) Option<PathBuf>);

impl StateFile {
    /// Reads the file; none yet is an empty state.
    pub(crate) fn read(&self) -> Result<State> {
        let Some(path) = &self.0 else {
            return Ok(State::default());
        };
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|error| {
                Error::Config(format!(
                    "{} is damaged ({error}); delete it and sign in again.",
                    path.display()
                ))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(error) => Err(Error::Config(format!(
                "Could not read {}: {error}.",
                path.display()
            ))),
        }
    }

    /// Replaces the file with `state`, readable by its owner only.
    pub(crate) fn write(&self, state: &State) -> Result<()> {
        let Some(path) = &self.0 else { return Ok(()) };
        let text = serde_json::to_string_pretty(state)
            .map_err(|error| Error::Internal(format!("cannot write the accounts: {error}")))?;
        write_private(path, text.as_bytes())
            .map_err(|error| Error::Config(format!("Could not write {}: {error}.", path.display())))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)
}
