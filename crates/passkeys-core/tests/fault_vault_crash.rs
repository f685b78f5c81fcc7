//! The app dying in the middle of a keychain write (at every possible point):
//! the next start reads either the old session or the new one, whole, or is
//! cleanly signed out; never half of each. A keychain write that crashes is
//! modelled by a store that stops accepting writes after `k` of them (what
//! reached the keychain stays, nothing after it does). The real SIGKILL runs
//! are in `fault_kill.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::MemoryStore;
use passkeys_core::{SecretStore, StoredSession, TokenVault};

const ACCOUNT: &str = "http://localhost:4000/|ntvc_demo";

/// Lets `budget` writes or deletes through, then "dies": every later one fails.
struct DyingStore {
    inner: Arc<MemoryStore>,
    budget: AtomicUsize,
}

impl DyingStore {
    fn alive(&self) -> passkeys_core::Result<()> {
        let left = self.budget.load(Ordering::SeqCst);
        if left == 0 {
            return Err(passkeys_core::Error::Keychain("the process died".into()));
        }
        self.budget.store(left - 1, Ordering::SeqCst);
        Ok(())
    }
}

impl SecretStore for DyingStore {
    fn get(&self, account: &str) -> passkeys_core::Result<Option<String>> {
        self.inner.get(account)
    }
    fn set(&self, account: &str, secret: &str) -> passkeys_core::Result<()> {
        self.alive()?;
        self.inner.set(account, secret)
    }
    fn delete(&self, account: &str) -> passkeys_core::Result<()> {
        self.alive()?;
        self.inner.delete(account)
    }
}

/// A session whose token lengths do not depend on `generation`, so that the
/// JSON of two generations lines up byte for byte (the worst case for mixing).
fn session(generation: char, token_length: usize) -> StoredSession {
    common::stored_session(
        generation.to_string().repeat(token_length),
        format!("refresh-{generation}"),
        Some(format!("id-{generation}")),
    )
}

fn generation_of(session: &StoredSession) -> char {
    let refresh = session.refresh_token.as_ref().unwrap().secret();
    let generation = refresh.chars().last().unwrap();
    assert!(
        session
            .access_token
            .secret()
            .chars()
            .all(|c| c == generation),
        "access token of one generation, refresh token of another"
    );
    assert_eq!(
        session.id_token.as_ref().unwrap().secret(),
        format!("id-{generation}")
    );
    generation
}

/// Saves `old`, then crashes while saving `new` after every possible number
/// of keychain writes; checks what the next start reads each time.
async fn crash_at_every_write(old: Option<StoredSession>, new: StoredSession) {
    let mut completed = false;
    for budget in 0..64 {
        let memory = Arc::new(MemoryStore::default());
        if let Some(old) = &old {
            TokenVault::new(memory.clone(), ACCOUNT)
                .save(old)
                .await
                .unwrap();
        }
        let dying = Arc::new(DyingStore {
            inner: memory.clone(),
            budget: AtomicUsize::new(budget),
        });
        let result = TokenVault::new(dying, ACCOUNT).save(&new).await;

        // Next start: a fresh vault on what the keychain holds.
        let loaded = TokenVault::new(memory.clone(), ACCOUNT).load().await;
        let loaded = loaded.unwrap_or_else(|error| {
            panic!("crash after {budget} writes: the next start fails: {error}")
        });
        match (&loaded, &old) {
            (None, None) => {}
            (None, Some(_)) => panic!("crash after {budget} writes lost the old session"),
            (Some(session), _) => {
                let generation = generation_of(session);
                let old_generation = old.as_ref().map(generation_of);
                assert!(
                    generation == generation_of(&new) || Some(generation) == old_generation,
                    "crash after {budget} writes: an unknown session"
                );
            }
        }
        if result.is_ok() {
            assert_eq!(generation_of(&loaded.unwrap()), generation_of(&new));
            completed = true;
            break;
        }
    }
    assert!(completed, "the save never completed");
}

#[tokio::test]
async fn crash_during_the_first_save_is_signed_out_or_signed_in() {
    crash_at_every_write(None, session('n', 40)).await;
    crash_at_every_write(None, session('n', 5000)).await;
}

#[tokio::test]
async fn crash_during_a_chunked_rotation_never_mixes_generations() {
    // Same sizes: the chunks of the two generations line up exactly.
    crash_at_every_write(Some(session('o', 5000)), session('n', 5000)).await;
}

#[tokio::test]
async fn crash_while_growing_or_shrinking_never_mixes_generations() {
    crash_at_every_write(Some(session('o', 40)), session('n', 5000)).await;
    crash_at_every_write(Some(session('o', 5000)), session('n', 40)).await;
    crash_at_every_write(Some(session('o', 2500)), session('n', 5000)).await;
    crash_at_every_write(Some(session('o', 5000)), session('n', 2500)).await;
}
