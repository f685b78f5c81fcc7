use std::sync::Arc;

use super::memory::MemoryStore;
use super::*;

fn session(refresh: &str) -> StoredSession {
    StoredSession {
        access_token: AccessToken::new("access-token".into()),
        refresh_token: Some(RefreshToken::new(refresh.into())),
        id_token: Some(IdToken::new("id-token".into())),
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

#[tokio::test]
async fn large_session_is_chunked_within_the_windows_limit() {
    let store = Arc::new(MemoryStore::default());
    let vault = TokenVault::new(store.clone(), "env|client");
    let big = format!("{}é", "r".repeat(5000));
    vault.save(&session(&big)).await.unwrap();
    {
        let entries = store.entries.lock().unwrap();
        let main = entries.get("env|client").unwrap();
        assert!(main.starts_with("chunks:"), "{main}");
        let count: usize = main["chunks:".len()..].parse().unwrap();
        assert!(count >= 5);
        for index in 1..=count {
            let chunk = entries.get(&format!("env|client#{index}")).unwrap();
            assert!(chunk.encode_utf16().count() * 2 <= 2560);
        }
    }
    let loaded = vault.load().await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token.unwrap().secret(), &big);

    // Shrinking back to one entry removes the stale chunks.
    vault.save(&session("short")).await.unwrap();
    assert_eq!(store.entries.lock().unwrap().len(), 1);
    vault.save(&session(&big)).await.unwrap();
    vault.purge().await.unwrap();
    assert!(store.entries.lock().unwrap().is_empty());
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
fn split_respects_char_boundaries() {
    let pieces = split_utf16("aé😀b", 2);
    assert_eq!(pieces, ["aé", "😀", "b"]);
    assert_eq!(split_utf16("", 5), [""]);
}

#[test]
fn stored_session_debug_redacts_tokens() {
    let debug = format!("{:?}", session("refresh-secret"));
    assert!(!debug.contains("refresh-secret"));
    assert!(!debug.contains("access-token"));
    assert!(!debug.contains("id-token"));
}
