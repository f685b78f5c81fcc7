//! Several accounts, one of them current.
//!
//! An account is an (environment, client, user): its tokens are in its own
//! keychain entry, `<environment url>|<client id>|<subject>`, and it has its
//! own [`Client`], built from its environment's configuration (its own
//! issuer, its own broker), so one account's token can never be sent to
//! another's environment or broker. Switching only changes which account
//! is current: it reads no keychain and calls no network, since the
//! identity shown (email, name, environment) is cached in the accounts file
//! (`state.rs`), which holds no secret.
//!
//! A sign-in goes through the environment's *sign-in client* (the browser,
//! the callback, the code exchange), which stores nothing: the new session
//! is written once, under its account's own entry, by that account's client
//! (the account is known only after the exchange). The sign-in client's own
//! entry, `<environment url>|<client id>`, is where an earlier version kept
//! its one session: when the accounts open, such a session is filed under
//! its account's entry and the old entry deleted, so nobody is signed out
//! by the upgrade.
//!
//! An account whose environment is no longer configured is listed as not
//! configured ([`AccountSummary::configured`]); [`Accounts::remove_stale`]
//! deletes its keychain entry.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::browser::BrowserLauncher;
use crate::client::{Client, ClientOptions};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::vault::{SecretStore, TokenVault};

mod changes;
mod state;
mod view;

pub use state::{AccountId, ACCOUNTS_FILE};
use state::{KnownAccount, State, StateFile};
pub use view::{AccountPasskeys, AccountSummary, AccountsOverview};

/// The accounts, their clients, and which one is current. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    shared: Arc<Shared>,
}

struct Shared {
    environments: Vec<(String, Config)>,
    store: Arc<dyn SecretStore>,
    browser: Arc<dyn BrowserLauncher>,
    options: ClientOptions,
    file: StateFile,
    state: Mutex<State>,
    /// One client per account key, built on first use.
    clients: Mutex<HashMap<String, Client>>,
    /// One sign-in client per environment name.
    sign_in_clients: Mutex<HashMap<String, Client>>,
    /// Filing, signing out and removing run one at a time.
    changes: tokio::sync::Mutex<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("accounts", &self.list())
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Opens the accounts of these named environments (at least one), their
    /// tokens in `store`, the accounts file at `state_file` (`None`: kept in
    /// memory). A session an earlier version stored for an environment is
    /// filed under its account (a keychain that fails then is logged, and
    /// the accounts open anyway).
    ///
    /// # Errors
    /// [`Error::Config`] with no environment, an invalid configuration, or
    /// an unreadable accounts file.
    pub async fn open(
        environments: Vec<(String, Config)>,
        store: Arc<dyn SecretStore>,
        browser: Arc<dyn BrowserLauncher>,
        options: ClientOptions,
        state_file: Option<PathBuf>,
    ) -> Result<Accounts> {
        if environments.is_empty() {
            return Err(Error::Config("No environment is configured.".into()));
        }
        for (_, config) in &environments {
            config.validate()?;
        }
        let file = StateFile(state_file);
        let state = file.read()?;
        let accounts = Accounts {
            shared: Arc::new(Shared {
                environments,
                store,
                browser,
                options,
                file,
                state: Mutex::new(state),
                clients: Mutex::default(),
                sign_in_clients: Mutex::default(),
                changes: tokio::sync::Mutex::new(()),
            }),
        };
        let names: Vec<String> = accounts.environment_names();
        for name in names {
            if let Err(error) = accounts.file_earlier_session(&name).await {
                tracing::warn!("could not file the session of {name}: {error}");
            }
        }
        {
            let mut state = lock(&accounts.shared.state);
            accounts.settle_current(&mut state);
        }
        Ok(accounts)
    }

    /// The environments' names, in the configuration's order.
    pub fn environment_names(&self) -> Vec<String> {
        let environments = &self.shared.environments;
        environments.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The configuration of environment `name`.
    pub fn environment(&self, name: &str) -> Option<&Config> {
        let mut environments = self.shared.environments.iter();
        environments
            .find(|(known, _)| known == name)
            .map(|(_, config)| config)
    }

    /// Every account, the current one marked, those of environments no
    /// longer configured too. Reads no keychain and no network.
    pub fn list(&self) -> Vec<AccountSummary> {
        let state = lock(&self.shared.state);
        state
            .accounts
            .iter()
            .map(|known| self.summary(known, &state))
            .collect()
    }

    /// Every account and every environment's name, for the switcher.
    pub fn overview(&self) -> AccountsOverview {
        AccountsOverview {
            accounts: self.list(),
            environments: self.environment_names(),
        }
    }

    /// Stops every sign-in that waits for the browser.
    pub fn cancel_sign_in(&self) {
        for client in lock(&self.shared.sign_in_clients).values() {
            client.cancel_sign_in();
        }
    }

    /// The current account, if any.
    pub fn current(&self) -> Option<AccountSummary> {
        self.list().into_iter().find(|account| account.current)
    }

    /// The accounts whose environment is no longer configured.
    pub fn stale(&self) -> Vec<AccountSummary> {
        self.list()
            .into_iter()
            .filter(|account| !account.configured)
            .collect()
    }

    /// The account `selector` names: its key, its email address, or the
    /// name of its environment (when one account is signed in there).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when it names no account or several.
    pub fn find(&self, selector: &str) -> Result<AccountSummary> {
        let accounts = self.list();
        if let Some(account) = accounts.iter().find(|account| account.key == selector) {
            return Ok(account.clone());
        }
        let by_email: Vec<&AccountSummary> = accounts
            .iter()
            .filter(|account| {
                account
                    .email
                    .as_deref()
                    .is_some_and(|email| email.eq_ignore_ascii_case(selector))
            })
            .collect();
        let by_environment: Vec<&AccountSummary> = accounts
            .iter()
            .filter(|account| account.environment == selector)
            .collect();
        match (by_email.as_slice(), by_environment.as_slice()) {
            ([one], _) | ([], [one]) => Ok((*one).clone()),
            ([], []) if self.environment(selector).is_some() => Err(Error::InvalidInput(format!(
                "No account is signed in to \"{selector}\": sign in to it first."
            ))),
            ([], []) => Err(Error::InvalidInput(format!(
                "No account or environment is called \"{selector}\"; `accounts list` shows them."
            ))),
            _ => Err(Error::InvalidInput(format!(
                "\"{selector}\" names several accounts; name one by its email address or environment."
            ))),
        }
    }

    /// Makes the account `selector` names the current one. Reads no
    /// keychain and no network.
    ///
    /// # Errors
    /// As [`Accounts::find`]; [`Error::InvalidInput`] for an account whose
    /// environment is no longer configured; [`Error::Config`] when the
    /// accounts file cannot be written.
    pub fn switch(&self, selector: &str) -> Result<AccountSummary> {
        let account = self.find(selector)?;
        if !account.configured {
            return Err(not_configured(&account));
        }
        let mut state = lock(&self.shared.state);
        let previous = state.current.replace(account.key.clone());
        if let Err(error) = self.shared.file.write(&state) {
            state.current = previous;
            return Err(error);
        }
        Ok(AccountSummary {
            current: true,
            ..account
        })
    }

    /// The current account and its client.
    ///
    /// # Errors
    /// [`Error::SignInRequired`] when no account is signed in.
    pub fn current_client(&self) -> Result<(AccountSummary, Client)> {
        let account = self.current().ok_or(Error::SignInRequired)?;
        let client = self.client(&account.key)?;
        Ok((account, client))
    }

    /// The client the window acts with: the current account's; with no
    /// account, the sign-in client of the first environment.
    ///
    /// # Errors
    /// As [`Accounts::current_client`], but never [`Error::SignInRequired`].
    pub fn active_client(&self) -> Result<Client> {
        match self.current_client() {
            Ok((_, client)) => Ok(client),
            Err(Error::SignInRequired) => {
                let first = self
                    .shared
                    .environments
                    .first()
                    .map(|(name, _)| name.clone());
                self.sign_in_client(&first.unwrap_or_default())
            }
            Err(error) => Err(error),
        }
    }

    /// The client a deep link is for: the one whose sign-in waits for the
    /// browser, else [`Accounts::active_client`].
    ///
    /// # Errors
    /// As [`Accounts::active_client`].
    pub fn deep_link_client(&self) -> Result<Client> {
        let waiting = lock(&self.shared.sign_in_clients)
            .values()
            .find(|client| client.sign_in_pending())
            .cloned();
        waiting.map_or_else(|| self.active_client(), Ok)
    }

    /// The account `selector` names and its client (without switching).
    ///
    /// # Errors
    /// As [`Accounts::find`]; [`Error::InvalidInput`] for an account whose
    /// environment is no longer configured.
    pub fn client_for(&self, selector: &str) -> Result<(AccountSummary, Client)> {
        let account = self.find(selector)?;
        let client = self.client(&account.key)?;
        Ok((account, client))
    }

    /// The current account's passkeys, named with the account they are of.
    ///
    /// # Errors
    /// As [`Accounts::current_client`] and [`Client::list_passkeys`].
    pub async fn list_passkeys(&self) -> Result<AccountPasskeys> {
        let (mut account, client) = self.current_client()?;
        let passkeys = client.list_passkeys().await?;
        // Still current? A switch while the call was in flight says no.
        account.current = self.current().is_some_and(|now| now.key == account.key);
        Ok(AccountPasskeys { account, passkeys })
    }
}

impl Accounts {
    /// Keeps the current account one whose environment is configured: the
    /// first such account when it is not (or none is current).
    fn settle_current(&self, state: &mut State) {
        let is_configured = |known: &KnownAccount| self.configured_named(&known.id).is_some();
        let current = state.current.as_deref().and_then(|key| state.find(key));
        if current.is_some_and(is_configured) {
            return;
        }
        state.current = state
            .accounts
            .iter()
            .find(|known| is_configured(known))
            .map(|known| known.id.key());
    }

    /// The client of account `key`, built on first use.
    fn client(&self, key: &str) -> Result<Client> {
        if let Some(client) = lock(&self.shared.clients).get(key) {
            return Ok(client.clone());
        }
        let account = self.find(key)?;
        let config = self
            .configured(&account.key)
            .ok_or_else(|| not_configured(&account))?;
        let vault = TokenVault::new(Arc::clone(&self.shared.store), key);
        let client = self.build(&config, vault)?;
        let mut clients = lock(&self.shared.clients);
        Ok(clients.entry(key.to_owned()).or_insert(client).clone())
    }

    fn build(&self, config: &Config, vault: TokenVault) -> Result<Client> {
        let shared = &self.shared;
        let browser = Arc::clone(&shared.browser);
        Client::with_vault(config.clone(), vault, browser, shared.options.clone())
    }

    /// The configured environment of an account (by issuer and client).
    fn configured_named(&self, id: &AccountId) -> Option<&(String, Config)> {
        self.shared.environments.iter().find(|(_, config)| {
            config.environment_url.as_str() == id.issuer && config.client_id == id.client_id
        })
    }

    fn configured(&self, key: &str) -> Option<Config> {
        let id = lock(&self.shared.state).find(key)?.id.clone();
        self.configured_named(&id).map(|(_, config)| config.clone())
    }

    fn summary(&self, known: &KnownAccount, state: &State) -> AccountSummary {
        let key = known.id.key();
        let configured = self.configured_named(&known.id);
        AccountSummary {
            current: state.current.as_deref() == Some(key.as_str()),
            environment: configured.map_or_else(|| known.environment.clone(), |(n, _)| n.clone()),
            environment_url: if known.issuer_name.is_empty() {
                known.id.issuer.clone()
            } else {
                known.issuer_name.clone()
            },
            subject: known.id.subject.clone(),
            email: known.email.clone(),
            name: known.name.clone(),
            configured: configured.is_some(),
            key,
        }
    }
}

fn unknown_environment(name: &str) -> Error {
    Error::InvalidInput(format!(
        "No environment is called \"{name}\" in the configuration."
    ))
}

fn not_configured(account: &AccountSummary) -> Error {
    Error::InvalidInput(format!(
        "The environment of {} ({}) is no longer configured: its keychain entry can only be removed.",
        account.email.as_deref().unwrap_or(&account.subject),
        account.environment_url
    ))
}

#[cfg(test)]
mod tests;
