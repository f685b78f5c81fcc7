//! Signing in, filing a session under its account, signing out and
//! removing accounts no longer configured: the changes, one at a time.

use std::sync::Arc;

use super::state::{AccountId, KnownAccount, State};
use super::{lock, unknown_environment, AccountSummary, Accounts};
use crate::client::{Client, NewSession, SignInProgress};
use crate::error::{Error, Result};
use crate::vault::{StoredSession, TokenVault};

impl Accounts {
    /// The client that signs in to environment `name`. It stores no new
    /// session: [`Accounts::sign_in`] stores it under its account's own
    /// entry. Its own entry is the one an earlier version kept its one
    /// session under, filed under its account when the accounts open.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown environment.
    pub fn sign_in_client(&self, name: &str) -> Result<Client> {
        let config = self
            .environment(name)
            .ok_or_else(|| unknown_environment(name))?;
        let mut clients = lock(&self.shared.sign_in_clients);
        if let Some(client) = clients.get(name) {
            return Ok(client.clone());
        }
        let vault = TokenVault::for_config(config, Arc::clone(&self.shared.store));
        let client = self.build(config, vault)?;
        clients.insert(name.to_owned(), client.clone());
        Ok(client)
    }

    /// Signs in to environment `name` through the browser; the new account
    /// becomes the current one (another account signed in stays signed in).
    /// The session is written once, under the account's own keychain entry.
    ///
    /// # Errors
    /// As [`Accounts::sign_in_client`] and [`Client::sign_in`].
    pub async fn sign_in(
        &self,
        name: &str,
        progress: impl Fn(SignInProgress) + Send + Sync + 'static,
    ) -> Result<AccountSummary> {
        let NewSession { provider, session } = self
            .sign_in_client(name)?
            .sign_in_unstored(progress)
            .await?;
        let _one_at_a_time = self.shared.changes.lock().await;
        self.file(name, session, Some(&provider)).await
    }

    /// Files the session an earlier version kept for environment `name`
    /// (under `<environment url>|<client id>`) under its account's own
    /// entry, deletes the old entry, and makes that account current.
    /// `None`: there was none.
    ///
    /// # Errors
    /// [`Error::Keychain`], or [`Error::Config`] when the accounts file
    /// cannot be written.
    pub(super) async fn file_earlier_session(&self, name: &str) -> Result<Option<AccountSummary>> {
        let _one_at_a_time = self.shared.changes.lock().await;
        let earlier = self.sign_in_client(name)?;
        let Some(session) = earlier.stored_session().await? else {
            return Ok(None);
        };
        let filed = self.file(name, session, None).await?;
        earlier.forget_session().await?;
        Ok(Some(filed))
    }

    /// Stores `session` with its account's client (its own keychain entry,
    /// one write; `provider` revokes a session it replaces) and makes that
    /// account current. Callers hold the `changes` lock.
    async fn file(
        &self,
        name: &str,
        session: StoredSession,
        provider: Option<&crate::oidc::Provider>,
    ) -> Result<AccountSummary> {
        let config = self
            .environment(name)
            .ok_or_else(|| unknown_environment(name))?;
        let id = AccountId {
            issuer: config.environment_url.to_string(),
            client_id: config.client_id.clone(),
            subject: session.account.subject.clone(),
        };
        let key = id.key();
        let known = KnownAccount {
            id,
            environment: name.to_owned(),
            issuer_name: session.account.environment.clone(),
            email: session.account.email.clone(),
            name: session.account.name.clone(),
        };
        let existing = lock(&self.shared.clients).get(&key).cloned();
        let client = match existing {
            Some(client) => client,
            None => {
                let vault = TokenVault::new(Arc::clone(&self.shared.store), key.clone());
                self.build(config, vault)?
            }
        };
        client.store_session(session, provider).await?;
        lock(&self.shared.clients).insert(key.clone(), client);
        self.change_state(|state| {
            state.upsert(known);
            state.current = Some(key.clone());
        })?;
        self.list()
            .into_iter()
            .find(|account| account.key == key)
            .ok_or(Error::SignInRequired)
    }

    /// Signs the account `selector` names out: its refresh token is revoked,
    /// its keychain entry deleted and the environment's end-session page
    /// opened. The other accounts stay signed in; when it was the current
    /// one, the first other account becomes current.
    ///
    /// # Errors
    /// As [`Accounts::find`] and [`Client::sign_out`].
    pub async fn sign_out(&self, selector: &str) -> Result<AccountSummary> {
        let _one_at_a_time = self.shared.changes.lock().await;
        let account = self.find(selector)?;
        if account.configured {
            self.client(&account.key)?.sign_out().await?;
        } else {
            self.purge(&account.key).await?;
        }
        self.forget(&account.key)?;
        Ok(account)
    }

    /// Deletes the keychain entries of the accounts whose environment is no
    /// longer configured, and forgets them; returns them.
    ///
    /// # Errors
    /// [`Error::Keychain`], or [`Error::Config`] when the accounts file
    /// cannot be written.
    pub async fn remove_stale(&self) -> Result<Vec<AccountSummary>> {
        let _one_at_a_time = self.shared.changes.lock().await;
        let stale = self.stale();
        for account in &stale {
            self.purge(&account.key).await?;
            self.forget(&account.key)?;
        }
        Ok(stale)
    }

    async fn purge(&self, key: &str) -> Result<()> {
        let vault = TokenVault::new(Arc::clone(&self.shared.store), key);
        vault
            .with_timeout(self.shared.options.keychain_timeout)
            .purge()
            .await
    }

    fn forget(&self, key: &str) -> Result<()> {
        lock(&self.shared.clients).remove(key);
        self.change_state(|state| state.remove(key))
    }

    /// Changes the state and writes the file; memory follows only a write
    /// that succeeded.
    fn change_state(&self, change: impl FnOnce(&mut State)) -> Result<()> {
        let mut state = lock(&self.shared.state);
        let mut next = state.clone();
        change(&mut next);
        self.settle_current(&mut next);
        self.shared.file.write(&next)?;
        *state = next;
        Ok(())
    }
}
