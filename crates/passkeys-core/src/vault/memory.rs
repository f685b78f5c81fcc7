//! An in-memory [`SecretStore`] for unit tests of the vault and of other
//! modules; never in production paths.

use std::collections::HashMap;
use std::sync::Mutex;

use super::SecretStore;
use crate::error::Result;

/// Entries in a map; every call is recorded as `get|set|delete <account>`.
#[derive(Default)]
pub(crate) struct MemoryStore {
    pub(crate) entries: Mutex<HashMap<String, String>>,
    pub(crate) calls: Mutex<Vec<String>>,
}

impl MemoryStore {
    /// The calls recorded since the last `take_calls`.
    pub(crate) fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    /// The stored account names, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.entries.lock().unwrap().keys().cloned().collect();
        names.sort();
        names
    }

    fn record(&self, call: &str, account: &str) {
        self.calls.lock().unwrap().push(format!("{call} {account}"));
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        self.record("get", account);
        Ok(self.entries.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.record("set", account);
        self.entries
            .lock()
            .unwrap()
            .insert(account.into(), secret.into());
        Ok(())
    }
    fn delete(&self, account: &str) -> Result<()> {
        self.record("delete", account);
        self.entries.lock().unwrap().remove(account);
        Ok(())
    }
}
