//! What the window and the command line see of the accounts: no token.

use serde::Serialize;

use crate::passkeys::Passkey;
use crate::vault::Account;

/// An account as the window and the command line show it: no token, and
/// nothing that needs the keychain or the network to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    /// The account's key ([`AccountId::key`](super::state::AccountId::key)): how the UI names it.
    pub key: String,
    /// The environment's name in the configuration (or the one it had).
    pub environment: String,
    /// The environment (issuer) URL, as its ID tokens name it.
    pub environment_url: String,
    /// The user (`sub`).
    pub subject: String,
    /// The email address, from the ID token or userinfo.
    pub email: Option<String>,
    /// The name, when known.
    pub name: Option<String>,
    /// Whether this is the current account.
    pub current: bool,
    /// False when its environment is no longer configured: its keychain
    /// entry can only be removed.
    pub configured: bool,
}

impl AccountSummary {
    /// The account as the session shows it (`SessionState::SignedIn`).
    pub fn account(&self) -> Account {
        Account {
            subject: self.subject.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            environment: self.environment_url.clone(),
        }
    }
}

/// What the account switcher shows: every account, and the environments
/// another account can sign in to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountsOverview {
    /// Every account, the current one marked.
    pub accounts: Vec<AccountSummary>,
    /// The configured environments' names.
    pub environments: Vec<String>,
}

/// A passkey list and the account it belongs to: a list that comes back
/// after a switch is for the account it names, not the current one (its
/// `current` says whether that account is still current when it came back).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountPasskeys {
    /// Whose passkeys.
    pub account: AccountSummary,
    /// The passkeys.
    pub passkeys: Vec<Passkey>,
}
