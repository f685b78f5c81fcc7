//! An in-memory secret store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use passkeys_core::{Config, SecretStore, StoredSession, TokenVault};

/// An in-memory [`SecretStore`] (the real keychain is used by the `fault_keychain` tests).
#[derive(Default)]
pub struct MemoryStore {
    pub entries: Mutex<HashMap<String, String>>,
    pub writes: AtomicUsize,
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> passkeys_core::Result<Option<String>> {
        Ok(self.entries.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, secret: &str) -> passkeys_core::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.entries
            .lock()
            .unwrap()
            .insert(account.into(), secret.into());
        Ok(())
    }
    fn delete(&self, account: &str) -> passkeys_core::Result<()> {
        self.entries.lock().unwrap().remove(account);
        Ok(())
    }
}

impl MemoryStore {
    pub fn snapshot(&self) -> HashMap<String, String> {
        self.entries.lock().unwrap().clone()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.lock().unwrap().is_empty()
    }

    pub async fn session(self: &Arc<Self>, config: &Config) -> Option<StoredSession> {
        TokenVault::for_config(config, Arc::clone(self) as Arc<dyn SecretStore>)
            .load()
            .await
            .unwrap()
    }

    pub async fn edit_session(
        self: &Arc<Self>,
        config: &Config,
        edit: impl FnOnce(&mut StoredSession),
    ) {
        let vault = TokenVault::for_config(config, Arc::clone(self) as Arc<dyn SecretStore>);
        let mut session = vault.load().await.unwrap().expect("a stored session");
        edit(&mut session);
        vault.save(&session).await.unwrap();
    }
}

/// A session of Ada Lovelace's account with the given tokens (an ID token
/// when `id_token` is given), expiring in 2030: what the vault tests store.
pub fn stored_session(
    access_token: String,
    refresh_token: String,
    id_token: Option<String>,
) -> StoredSession {
    StoredSession {
        access_token: passkeys_core::secret::AccessToken::new(access_token),
        refresh_token: Some(passkeys_core::secret::RefreshToken::new(refresh_token)),
        id_token: id_token.map(passkeys_core::secret::IdToken::new),
        expires_at: time::OffsetDateTime::from_unix_timestamp(1_900_000_000)
            .expect("a valid timestamp"),
        account: passkeys_core::Account {
            subject: "usr_1".into(),
            name: Some("Ada Lovelace".into()),
            email: Some(super::EMAIL.into()),
            environment: "http://localhost:4000/".into(),
        },
    }
}
