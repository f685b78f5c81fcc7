use std::sync::Arc;

use super::keyring_store::keyring_error;
use super::memory::MemoryStore;
use super::*;

pub(super) fn session(refresh: &str) -> StoredSession {
    StoredSession {
        access_token: AccessToken::new("access-token".into()),
        refresh_token: Some(RefreshToken::new(refresh.into())),
        id_token: Some(IdToken::new("id-token")),
        expires_at: OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap(),
        account: Account {
            subject: "usr_1".into(),
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            environment: "http://localhost:4000".into(),
        },
    }
}

#[tokio::test]
async fn small_session_is_one_entry() {
    let store = Arc::new(MemoryStore::default());
    let vault = TokenVault::new(store.clone(), "env|client");
    assert!(vault.load().await.unwrap().is_none());
    vault.save(&session("rt-1")).await.unwrap();
    assert_eq!(store.entries.lock().unwrap().len(), 1);
    let loaded = vault.load().await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token.unwrap().secret(), "rt-1");
    assert_eq!(loaded.account.email.as_deref(), Some("ada@example.com"));
    vault.purge().await.unwrap();
    assert!(store.entries.lock().unwrap().is_empty());
}

#[cfg(not(windows))]
#[tokio::test]
async fn off_windows_a_long_session_is_still_one_entry() {
    let store = Arc::new(MemoryStore::default());
    let vault = TokenVault::new(store.clone(), "env|client");
    let big = format!("{}é", "r".repeat(5000));
    vault.save(&session(&big)).await.unwrap();
    assert_eq!(store.names(), ["env|client"]);
    let main = store.get("env|client").unwrap().unwrap();
    assert!(main.starts_with('{'), "{main:.20}");
    let loaded = vault.load().await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token.unwrap().secret(), &big);
}

#[tokio::test]
async fn damaged_entry_reads_as_signed_out_and_is_purged() {
    let store = Arc::new(MemoryStore::default());
    store.set("env|client", "{not json").unwrap();
    let vault = TokenVault::new(store.clone(), "env|client");
    assert!(vault.load().await.unwrap().is_none());
    assert!(store.entries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn missing_chunk_is_a_keychain_error() {
    let store = Arc::new(MemoryStore::default());
    store.set("env|client", "chunks:2").unwrap();
    store.set("env|client#1", "{").unwrap();
    let vault = TokenVault::new(store, "env|client");
    let error = vault.load().await.unwrap_err();
    assert!(matches!(error, Error::Keychain(_)), "{error:?}");
}

struct HangingStore;

impl SecretStore for HangingStore {
    fn get(&self, _: &str) -> Result<Option<String>> {
        std::thread::sleep(Duration::from_millis(500));
        Ok(None)
    }
    fn set(&self, _: &str, _: &str) -> Result<()> {
        std::thread::sleep(Duration::from_millis(500));
        Ok(())
    }
    fn delete(&self, _: &str) -> Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_keychain_that_does_not_answer_is_an_error() {
    let vault = TokenVault::new(Arc::new(HangingStore), "env|client")
        .with_timeout(Duration::from_millis(50));
    let error = vault.load().await.unwrap_err();
    assert!(matches!(error, Error::Keychain(_)));
    assert!(error.to_string().contains("did not answer"));
}

/// A keychain whose reads wait until the test opens the gate; counts writes.
#[derive(Default)]
struct GatedStore {
    open: std::sync::Mutex<bool>,
    opened: std::sync::Condvar,
    writes: std::sync::atomic::AtomicUsize,
}

impl GatedStore {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl SecretStore for GatedStore {
    fn get(&self, _: &str) -> Result<Option<String>> {
        let open = self.open.lock().unwrap();
        drop(self.opened.wait_while(open, |open| !*open).unwrap());
        Ok(None)
    }
    fn set(&self, _: &str, _: &str) -> Result<()> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
    fn delete(&self, _: &str) -> Result<()> {
        Ok(())
    }
}

#[test]
fn a_save_that_timed_out_waiting_for_its_turn_never_writes() {
    let store = Arc::new(GatedStore::default());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // Given a keychain that hangs on the first read
        let vault =
            TokenVault::new(store.clone(), "env|client").with_timeout(Duration::from_millis(50));
        let error = vault.load().await.unwrap_err();
        assert!(error.to_string().contains("did not answer"), "{error}");

        // When a save, queued behind it, times out too
        let error = vault.save(&session("rt")).await.unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Keychain);
        assert!(error.to_string().contains("did not answer"), "{error}");
        store.open();
    });
    // (dropping the runtime waits for the keychain threads to finish)
    drop(runtime);

    // Then it did not write later, behind the caller's back
    assert_eq!(store.writes.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn keyring_errors_map_to_keychain() {
    let locked = keyring_error(keyring::Error::NoStorageAccess("locked collection".into()));
    assert!(locked
        .to_string()
        .starts_with("The system keychain is locked or unavailable: locked collection"));
    assert_eq!(locked.kind(), crate::ErrorKind::Keychain);
    let failed = keyring_error(keyring::Error::PlatformFailure("no dbus".into()));
    assert_eq!(failed.kind(), crate::ErrorKind::Keychain);
}

#[test]
fn stored_session_debug_redacts_tokens() {
    let debug = format!("{:?}", session("refresh-secret"));
    assert!(!debug.contains("refresh-secret"));
    assert!(!debug.contains("access-token"));
    assert!(!debug.contains("id-token"));
}
