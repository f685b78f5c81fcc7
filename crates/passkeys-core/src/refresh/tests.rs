//! The session in memory and its refresh, on a fake clock and an in-memory
//! keychain.

use std::sync::Arc;

use time::OffsetDateTime;

use super::*;
use crate::clock::ManualClock;
use crate::vault::memory::MemoryStore;

/// Where the tests' clock stands: 2030-01-01T00:00:00Z.
fn start() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_893_456_000).unwrap()
}

/// Sessions on a fake clock standing at [`start`].
fn sessions(vault: TokenVault) -> (Sessions, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(start()));
    let sessions = Sessions::new(vault, DEFAULT_REFRESH_SKEW, clock.clone());
    (sessions, clock)
}

/// A session whose access token expires `expires_in` after [`start`].
fn session(token: &str, expires_in: time::Duration) -> StoredSession {
    StoredSession {
        refresh_token: Some(crate::secret::RefreshToken::new("rt".into())),
        ..without_refresh_token(token, expires_in)
    }
}

fn without_refresh_token(token: &str, expires_in: time::Duration) -> StoredSession {
    StoredSession {
        access_token: AccessToken::new(token.into()),
        refresh_token: None,
        id_token: None,
        expires_at: start() + expires_in,
        account: Account {
            subject: "usr_1".into(),
            name: None,
            email: None,
            environment: "http://localhost".into(),
        },
    }
}

#[tokio::test]
async fn session_is_read_from_the_vault_once_and_written_through() {
    let store = Arc::new(MemoryStore::default());
    let vault = TokenVault::new(store.clone(), "env|client");
    vault
        .save(&session("at-1", time::Duration::minutes(5)))
        .await
        .unwrap();
    let (sessions, _clock) = sessions(vault);
    let current = sessions.required().await.unwrap();
    assert_eq!(current.access_token.secret(), "at-1");
    assert!(!sessions.needs_refresh(&current));

    sessions
        .replace(session("at-2", time::Duration::seconds(10)))
        .await
        .unwrap();
    let stored = store.entries.lock().unwrap().get("env|client").cloned();
    assert!(stored.unwrap().contains("at-2"));
    assert!(sessions.needs_refresh(&sessions.required().await.unwrap()));

    sessions.clear().await.unwrap();
    assert!(store.entries.lock().unwrap().is_empty());
    assert!(matches!(
        sessions.required().await,
        Err(Error::SignInRequired)
    ));
}

#[tokio::test]
async fn without_a_refresh_token_the_session_lasts_until_expiry_then_asks_to_sign_in() {
    // Given a session without a refresh token, 10 s from expiry (within the skew)
    let store = Arc::new(MemoryStore::default());
    let vault = TokenVault::new(store.clone(), "env|client");
    let (sessions, clock) = sessions(vault);
    sessions
        .replace(without_refresh_token("at-1", time::Duration::seconds(10)))
        .await
        .unwrap();

    // Then it is used as it is, up to its last second: nothing to
    // refresh it with
    let current = sessions.required().await.unwrap();
    assert!(!sessions.needs_refresh(&current));
    clock.advance(time::Duration::seconds(9));
    assert!(!sessions.needs_refresh(&current));

    // When it has expired
    clock.advance(time::Duration::seconds(1));
    let current = sessions.required().await.unwrap();
    assert!(sessions.needs_refresh(&current));
    let discovered = std::sync::atomic::AtomicBool::new(false);
    let error = sessions
        .refresh(
            || async {
                discovered.store(true, std::sync::atomic::Ordering::SeqCst);
                Err(Error::Network("the provider is unreachable".into()))
            },
            &current.access_token,
        )
        .await
        .unwrap_err();

    // Then the user is asked to sign in again, not told about the network,
    // and the keychain entry is gone
    assert!(matches!(error, Error::SessionExpired), "{error:?}");
    assert!(!discovered.load(std::sync::atomic::Ordering::SeqCst));
    assert!(store.entries.lock().unwrap().is_empty());
    assert!(matches!(
        sessions.required().await,
        Err(Error::SignInRequired)
    ));
}

#[tokio::test]
async fn a_session_ended_in_another_process_is_not_refreshed_nor_purged() {
    // Given this process's expired session of usr_1, while another process
    // sharing the keychain entry signed in as someone else
    let store = Arc::new(MemoryStore::default());
    let (sessions, _clock) = sessions(TokenVault::new(store.clone(), "env|client"));
    sessions
        .replace(session("at-1", time::Duration::seconds(-1)))
        .await
        .unwrap();
    let mut someone_else = session("at-other", time::Duration::minutes(5));
    someone_else.account.subject = "usr_2".into();
    TokenVault::new(store.clone(), "env|client")
        .save(&someone_else)
        .await
        .unwrap();

    // When a call needs a refresh
    let asked = std::sync::atomic::AtomicBool::new(false);
    let error = sessions
        .refresh(
            || async {
                asked.store(true, std::sync::atomic::Ordering::SeqCst);
                Err(Error::Network("not reached".into()))
            },
            &AccessToken::new("at-1".into()),
        )
        .await
        .unwrap_err();

    // Then this session is over, the other account's entry is untouched
    // and memory follows the keychain
    assert!(matches!(error, Error::SessionExpired), "{error:?}");
    assert!(!asked.load(std::sync::atomic::Ordering::SeqCst));
    let stored = store.entries.lock().unwrap().get("env|client").cloned();
    assert!(stored.unwrap().contains("at-other"));
    assert_eq!(sessions.required().await.unwrap().account.subject, "usr_2");
}

#[tokio::test]
async fn a_refreshable_session_is_refreshed_from_the_skew_before_expiry() {
    // Given a session with a refresh token, 5 minutes from expiry
    let vault = TokenVault::new(Arc::new(MemoryStore::default()), "env|client");
    let (sessions, clock) = sessions(vault);
    let current = session("at-1", time::Duration::minutes(5));

    // Then it is fresh until the skew (30 s) before expiry, stale from then on
    let table = [
        (time::Duration::ZERO, false),
        (time::Duration::seconds(269), false),
        (time::Duration::seconds(270), true),
        (time::Duration::minutes(5), true),
        (time::Duration::hours(1), true),
    ];
    for (elapsed, stale) in table {
        clock.set(start() + elapsed);
        assert_eq!(sessions.needs_refresh(&current), stale, "after {elapsed}");
    }
}
