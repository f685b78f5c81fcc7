//! Both layouts against the in-memory store: what a save costs in keychain
//! calls, how a session written in chunks by an earlier version is taken
//! over, and what a crash in the middle of a save leaves.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::layout::{split_utf16, WINDOWS_MAX_ENTRY_UNITS};
use super::memory::MemoryStore;
use super::tests::session;
use super::*;

const USER: &str = "env|client";

fn single(store: &Arc<MemoryStore>) -> TokenVault {
    TokenVault::new(store.clone(), USER).with_single_entry()
}

/// Chunks of 100 units, so a few hundred bytes of session make several.
fn chunked(store: &Arc<MemoryStore>) -> TokenVault {
    TokenVault::new(store.clone(), USER).with_chunks_of(100)
}

/// A session whose JSON takes several 100-unit chunks.
fn long_session(refresh: &str) -> StoredSession {
    session(&format!("{refresh}-{}", "x".repeat(400)))
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| name.to_string()).collect()
}

fn refresh_token(session: &StoredSession) -> String {
    session.refresh_token.as_ref().unwrap().secret().clone()
}

#[test]
fn the_platform_layout_chunks_only_on_windows() {
    let expected = if cfg!(windows) {
        Layout::Chunked {
            max_units: WINDOWS_MAX_ENTRY_UNITS,
        }
    } else {
        Layout::SingleEntry
    };
    assert_eq!(Layout::for_this_platform(), expected);
}

#[tokio::test]
async fn a_single_entry_save_is_one_store_call_when_no_chunks_are_known() {
    // Given a vault that has read the keychain (signed out)
    let store = Arc::new(MemoryStore::default());
    let vault = single(&store);
    assert!(vault.load().await.unwrap().is_none());
    store.take_calls();

    // When it saves a session, and then a rotated one
    vault.save(&long_session("rt-1")).await.unwrap();
    let first = store.take_calls();
    vault.save(&long_session("rt-2")).await.unwrap();
    let second = store.take_calls();

    // Then each save is exactly one write of the main entry
    assert_eq!(first, ["set env|client"]);
    assert_eq!(second, ["set env|client"]);
    assert_eq!(store.names(), [USER]);
    let loaded = vault.load().await.unwrap().unwrap();
    assert!(refresh_token(&loaded).starts_with("rt-2-"));
}

#[tokio::test]
async fn a_vault_that_never_read_the_keychain_reads_the_main_entry_once() {
    let store = Arc::new(MemoryStore::default());
    let vault = single(&store);
    vault.save(&session("rt-1")).await.unwrap();
    assert_eq!(store.take_calls(), ["get env|client", "set env|client"]);
    // Its clones share what it learnt.
    vault.clone().save(&session("rt-2")).await.unwrap();
    assert_eq!(store.take_calls(), ["set env|client"]);
}

#[tokio::test]
async fn legacy_chunked_session_is_read_then_replaced_by_one_entry_and_the_chunks_are_deleted() {
    // Given a session an earlier version wrote in chunks
    let store = Arc::new(MemoryStore::default());
    chunked(&store).save(&long_session("old")).await.unwrap();
    let legacy = store.names();
    assert!(legacy.len() >= 5, "{legacy:?}");
    let chunks = legacy.len() - 1;
    assert!(store.get(USER).unwrap().unwrap().starts_with("chunks:"));

    // When this version starts, reads it, and saves a rotated session
    let vault = single(&store);
    let loaded = vault.load().await.unwrap().unwrap();
    assert!(refresh_token(&loaded).starts_with("old-"));
    store.take_calls();
    vault.save(&long_session("new")).await.unwrap();

    // Then the main entry is written once (whole), then each chunk is deleted
    let mut expected = names(&["set env|client"]);
    expected.extend((1..=chunks).map(|index| format!("delete env|client#{index}")));
    assert_eq!(store.take_calls(), expected);
    assert_eq!(store.names(), [USER]);
    let loaded = vault.load().await.unwrap().unwrap();
    assert!(refresh_token(&loaded).starts_with("new-"));

    // And the next save is one call again
    store.take_calls();
    vault.save(&session("newer")).await.unwrap();
    assert_eq!(store.take_calls(), ["set env|client"]);
}

#[tokio::test]
async fn legacy_chunks_are_deleted_by_the_first_save_even_without_a_load() {
    let store = Arc::new(MemoryStore::default());
    let earlier = chunked(&store);
    earlier.save(&long_session("old-a")).await.unwrap();
    earlier.save(&long_session("old-b")).await.unwrap();
    assert!(store.get(USER).unwrap().unwrap().ends_with(":b"));

    single(&store).save(&session("new")).await.unwrap();

    assert_eq!(store.names(), [USER]);
    let loaded = single(&store).load().await.unwrap().unwrap();
    assert_eq!(refresh_token(&loaded), "new");
}

#[tokio::test]
async fn purge_removes_legacy_chunks_this_vault_never_loaded() {
    // Given chunks written by an earlier version (or another process)
    let store = Arc::new(MemoryStore::default());
    chunked(&store).save(&long_session("old")).await.unwrap();
    assert!(store.names().len() > 1);

    // When a vault that never read them purges (sign-out)
    single(&store).purge().await.unwrap();

    // Then nothing is left
    assert!(store.names().is_empty(), "{:?}", store.names());
    assert!(single(&store).load().await.unwrap().is_none());
}

#[tokio::test]
async fn a_chunked_save_alternates_sets_and_switches_the_main_entry_last() {
    let store = Arc::new(MemoryStore::default());
    let vault = chunked(&store);
    vault.save(&long_session("first")).await.unwrap();
    let count = store.names().len() - 1;
    store.take_calls();

    vault.save(&long_session("second")).await.unwrap();

    // One read of the main entry (another process may have switched sets),
    // the new set, the main entry, then the old set goes.
    let mut expected = names(&["get env|client"]);
    expected.extend((1..=count).map(|index| format!("set env|client#b{index}")));
    expected.push("set env|client".into());
    expected.extend((1..=count).map(|index| format!("delete env|client#{index}")));
    assert_eq!(store.take_calls(), expected);
    assert_eq!(
        store.get(USER).unwrap().unwrap(),
        format!("chunks:{count}:b")
    );
    let loaded = vault.load().await.unwrap().unwrap();
    assert!(refresh_token(&loaded).starts_with("second-"));
}

#[tokio::test]
async fn chunks_stay_within_the_limit_and_on_char_boundaries() {
    let store = Arc::new(MemoryStore::default());
    let vault = TokenVault::new(store.clone(), USER).with_chunks_of(WINDOWS_MAX_ENTRY_UNITS);
    let big = format!("{}é😀", "r".repeat(5000));
    vault.save(&session(&big)).await.unwrap();
    let entries = store.entries.lock().unwrap().clone();
    let count: usize = entries[USER]["chunks:".len()..].parse().unwrap();
    assert!(count >= 5);
    assert_eq!(entries.len(), count + 1);
    for index in 1..=count {
        let chunk = &entries[&format!("{USER}#{index}")];
        assert!(chunk.encode_utf16().count() * 2 <= 2560);
    }
    let loaded = vault.load().await.unwrap().unwrap();
    assert_eq!(refresh_token(&loaded), big);

    // Shrinking back to one entry removes the stale chunks; purge the rest.
    vault.save(&session("short")).await.unwrap();
    assert_eq!(store.names(), [USER]);
    vault.save(&session(&big)).await.unwrap();
    vault.purge().await.unwrap();
    assert!(store.names().is_empty());
}

/// Windows' Credential Manager: a credential's secret is at most 2,560 bytes
/// (`CRED_MAX_CREDENTIAL_BLOB_SIZE`), kept as UTF-16; a larger one is
/// refused, as the real store refuses it.
struct CredentialManagerLimit(MemoryStore);

impl CredentialManagerLimit {
    const MAX_BYTES: usize = 2560;
}

impl SecretStore for CredentialManagerLimit {
    fn get(&self, account: &str) -> Result<Option<String>> {
        self.0.get(account)
    }
    fn set(&self, account: &str, secret: &str) -> Result<()> {
        if secret.encode_utf16().count() * 2 > Self::MAX_BYTES {
            return Err(Error::Keychain(format!(
                "the credential is larger than {} bytes",
                Self::MAX_BYTES
            )));
        }
        self.0.set(account, secret)
    }
    fn delete(&self, account: &str) -> Result<()> {
        self.0.delete(account)
    }
}

#[tokio::test]
async fn the_windows_layout_fits_a_store_that_enforces_the_real_limit() {
    // Given a store that refuses what Credential Manager refuses, and a
    // session of real size (long tokens, a name with non-ASCII characters)
    let store = Arc::new(CredentialManagerLimit(MemoryStore::default()));
    let big = format!("{}é😀", "r".repeat(4000));

    // A single entry does not fit: the limit is real
    let whole = TokenVault::new(store.clone(), USER).with_single_entry();
    assert!(matches!(
        whole.save(&session(&big)).await,
        Err(Error::Keychain(_))
    ));

    // The Windows layout saves it, reads it back and removes it
    let windows = TokenVault::new(store.clone(), USER).with_chunks_of(WINDOWS_MAX_ENTRY_UNITS);
    windows.save(&session(&big)).await.unwrap();
    let fresh = TokenVault::new(store.clone(), USER).with_chunks_of(WINDOWS_MAX_ENTRY_UNITS);
    let loaded = fresh.load().await.unwrap().unwrap();
    assert_eq!(refresh_token(&loaded), big);
    fresh.purge().await.unwrap();
    assert!(store.0.names().is_empty());
}

#[test]
fn split_respects_char_boundaries() {
    let pieces = split_utf16("aé😀b", 2);
    assert_eq!(pieces, ["aé", "😀", "b"]);
    assert_eq!(split_utf16("", 5), [""]);
}

/// Lets `budget` writes or deletes through, then "dies" (every later one
/// fails) until revived.
struct DyingStore {
    inner: Arc<MemoryStore>,
    budget: AtomicUsize,
}

impl DyingStore {
    fn alive(&self) -> Result<()> {
        let left = self.budget.load(Ordering::SeqCst);
        if left == 0 {
            return Err(Error::Keychain("the process died".into()));
        }
        self.budget.store(left - 1, Ordering::SeqCst);
        Ok(())
    }
}

impl SecretStore for DyingStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        self.inner.get(account)
    }
    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.alive()?;
        self.inner.set(account, secret)
    }
    fn delete(&self, account: &str) -> Result<()> {
        self.alive()?;
        self.inner.delete(account)
    }
}

#[derive(Clone, Copy)]
enum Writer {
    Single,
    Chunked,
}

impl Writer {
    fn vault(self, store: Arc<dyn SecretStore>) -> TokenVault {
        let vault = TokenVault::new(store, USER);
        match self {
            Writer::Single => vault.with_single_entry(),
            Writer::Chunked => vault.with_chunks_of(100),
        }
    }
}

/// Saves `old` with `before`, then lets a `after` vault (that has loaded
/// it) crash after every possible number of keychain writes while saving
/// `new`. Each time the next start reads the old or the new session,
/// whole; and the same vault, once the keychain works again, saves a
/// shorter session and leaves no chunk behind that the main entry does not
/// use.
async fn crash_at_every_write(before: Writer, old: &StoredSession, after: Writer) {
    let new = long_session("new");
    let mut completed = false;
    for budget in 0..64 {
        let memory = Arc::new(MemoryStore::default());
        before.vault(memory.clone()).save(old).await.unwrap();
        let dying = Arc::new(DyingStore {
            inner: memory.clone(),
            budget: AtomicUsize::new(usize::MAX),
        });
        let vault = after.vault(dying.clone());
        vault.load().await.unwrap();
        dying.budget.store(budget, Ordering::SeqCst);
        let result = vault.save(&new).await;

        let next_start = single(&memory).load().await;
        let loaded = next_start
            .unwrap_or_else(|error| {
                panic!("crash after {budget} writes: next start fails: {error}")
            })
            .unwrap_or_else(|| panic!("crash after {budget} writes lost the session"));
        let token = refresh_token(&loaded);
        assert!(
            token == refresh_token(old) || token == refresh_token(&new),
            "crash after {budget} writes: an unknown session"
        );
        if result.is_ok() {
            assert_eq!(token, refresh_token(&new));
            completed = true;
            break;
        }

        // The same process saves again once the keychain answers.
        dying.budget.store(usize::MAX, Ordering::SeqCst);
        vault.save(&session("retry")).await.unwrap();
        let main = memory.get(USER).unwrap().unwrap();
        let expected_entries = match main.strip_prefix("chunks:") {
            None => 1,
            Some(rest) => 1 + rest.trim_end_matches(":b").parse::<usize>().unwrap(),
        };
        assert_eq!(
            memory.names().len(),
            expected_entries,
            "crash after {budget} writes, then a retry: chunks left behind: {:?}",
            memory.names()
        );
    }
    assert!(completed, "the save never completed");
}

#[tokio::test]
async fn a_crash_in_any_save_leaves_one_whole_session_and_a_retry_leaves_no_chunks() {
    let short = session("old");
    let long = long_session("old");
    for (before, old, after) in [
        // this version on Linux and macOS, also over an earlier version's chunks
        (Writer::Single, &long, Writer::Single),
        (Writer::Chunked, &long, Writer::Single),
        // Windows: rotation, growing and shrinking
        (Writer::Chunked, &long, Writer::Chunked),
        (Writer::Chunked, &short, Writer::Chunked),
    ] {
        crash_at_every_write(before, old, after).await;
    }
}

#[tokio::test]
async fn a_purge_that_stops_midway_is_finished_by_the_next_one() {
    let memory = Arc::new(MemoryStore::default());
    chunked(&memory).save(&long_session("old")).await.unwrap();
    let dying = Arc::new(DyingStore {
        inner: memory.clone(),
        budget: AtomicUsize::new(2),
    });
    let vault = TokenVault::new(dying.clone(), USER).with_single_entry();
    vault.purge().await.unwrap_err();
    assert!(memory.get(USER).unwrap().is_none(), "main entry went first");
    assert!(!memory.names().is_empty(), "some chunks are left");

    // The main entry is gone, but this vault remembers the chunks.
    dying.budget.store(usize::MAX, Ordering::SeqCst);
    vault.purge().await.unwrap();
    assert!(memory.names().is_empty(), "{:?}", memory.names());
}
