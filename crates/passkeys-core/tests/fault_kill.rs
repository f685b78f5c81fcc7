//! The app killed (SIGKILL) between the code exchange and the keychain
//! write, at every write of the session (one on Linux and macOS): the next
//! start is cleanly signed out (never an error, never half a session); a run
//! that is not killed is signed in with a session that works. And killed at
//! every write of a chunked rotation (the Windows layout, here on the Secret
//! Service): the next start reads the old session or the new one, whole.
//! Uses the real Secret Service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{Delivery, Env, LoginBrowser, CLIENT_ID};
use passkeys_core::{
    Client, Config, KeyringStore, RedirectMode, SecretStore, SessionState, StoredSession,
    TokenVault,
};
use scalekit_emulator::DevMailbox;
use url::Url;

const TEST: &str = "killed_between_code_exchange_and_keychain_write_is_never_half_signed_in";
const CHUNKED_TEST: &str = "killed_in_a_chunked_rotation_reads_the_old_or_the_new_session_whole";
const ACCOUNT: &str = "http://localhost:4000/|ntvc_demo";
/// Windows' chunk size: the sessions below take three chunks.
const CHUNK_UNITS: usize = 1200;

/// Announces each keychain write on stdout, then gives the parent time to kill.
struct AnnouncingStore {
    inner: KeyringStore,
    writes: AtomicUsize,
}

impl SecretStore for AnnouncingStore {
    fn get(&self, account: &str) -> passkeys_core::Result<Option<String>> {
        self.inner.get(account)
    }
    fn set(&self, account: &str, secret: &str) -> passkeys_core::Result<()> {
        let number = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        println!("write {number}");
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_millis(400));
        self.inner.set(account, secret)
    }
    fn delete(&self, account: &str) -> passkeys_core::Result<()> {
        self.inner.delete(account)
    }
}

fn config(base: &Url) -> Config {
    let mut config = Config::new(base.clone(), CLIENT_ID);
    config.redirect = RedirectMode::Loopback { port: 0 };
    config
}

/// The child: signs in against the parent's emulator (named by its dev
/// mailbox's address), announcing each write.
fn child(mailbox: &str, service: &str) {
    let mailbox = DevMailbox::parse(mailbox).unwrap();
    let base = mailbox.base_url().clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Arc::new(AnnouncingStore {
            inner: KeyringStore::new(service),
            writes: AtomicUsize::new(0),
        });
        let browser = LoginBrowser::for_mailbox(&mailbox, Delivery::Loopback);
        let app = Client::new(config(&base), store, browser).await.unwrap();
        app.sign_in(|_| {}).await.unwrap();
        println!("signed in");
    });
}

/// Runs the child, killing it when it announces write `kill_at`; returns
/// whether it was killed.
fn run_child(mailbox: &DevMailbox, service: &str, kill_at: Option<usize>) -> bool {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", TEST, "--nocapture", "--include-ignored"])
        .env("FAULT_KILL_CHILD_MAILBOX", mailbox.secret_url().as_str())
        .env("FAULT_KILL_CHILD_SERVICE", service);
    run_and_kill(command, kill_at)
}

/// Runs `command`, killing it when it announces write `kill_at`; returns
/// whether it was killed.
fn run_and_kill(mut command: Command, kill_at: Option<usize>) -> bool {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let target = kill_at.map(|n| format!("write {n}"));
    let mut killed = false;
    for line in lines {
        let line = line.unwrap();
        if Some(line.trim()) == target.as_deref() {
            child.kill().unwrap();
            killed = true;
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(killed || status.success(), "the child failed: {status}");
    killed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service session: run through the project's test script"]
async fn killed_between_code_exchange_and_keychain_write_is_never_half_signed_in() {
    if let (Ok(mailbox), Ok(service)) = (
        std::env::var("FAULT_KILL_CHILD_MAILBOX"),
        std::env::var("FAULT_KILL_CHILD_SERVICE"),
    ) {
        tokio::task::spawn_blocking(move || child(&mailbox, &service))
            .await
            .unwrap();
        return;
    }
    let env = Env::start().await;
    let mut kills = 0;
    for kill_at in 1.. {
        let service = format!("fault-kill-{}-{kill_at}", std::process::id());
        let mailbox = env.mailbox.clone();
        let killed = {
            let service = service.clone();
            tokio::task::spawn_blocking(move || run_child(&mailbox, &service, Some(kill_at)))
                .await
                .unwrap()
        };

        // The next start, on what the keychain holds (and the broker for its passkeys).
        let app = Client::new(
            env.config(RedirectMode::Loopback { port: 0 }),
            Arc::new(KeyringStore::new(service)),
            LoginBrowser::new(&env, Delivery::Nothing),
        )
        .await
        .unwrap();
        let state = app
            .session()
            .await
            .unwrap_or_else(|error| panic!("killed at write {kill_at}: next start fails: {error}"));
        if killed {
            kills += 1;
            assert_eq!(
                state,
                SessionState::SignedOut,
                "killed at write {kill_at}: half a session"
            );
        } else {
            assert!(matches!(state, SessionState::SignedIn { .. }));
            app.list_passkeys().await.unwrap();
            app.sign_out().await.unwrap();
            break;
        }
        assert!(kill_at < 10, "the sign-in never finished writing");
    }
    assert!(kills >= 1, "no write was interrupted");
    eprintln!("killed at each of {kills} keychain writes; signed out cleanly every time");
}

/// A session of `generation` whose JSON takes three chunks.
fn long_session(generation: char) -> StoredSession {
    common::stored_session(
        generation.to_string().repeat(3000),
        format!("refresh-{generation}"),
        Some(format!("id-{generation}")),
    )
}

/// The generation of a session read back, checking that all its parts agree.
fn generation_of(session: &StoredSession) -> char {
    let generation = session
        .refresh_token
        .as_ref()
        .unwrap()
        .secret()
        .chars()
        .last()
        .unwrap();
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
        &format!("id-{generation}")
    );
    generation
}

/// The child: loads the old session in chunks, then rotates it, announcing each write.
fn chunked_child(service: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Arc::new(AnnouncingStore {
            inner: KeyringStore::new(service),
            writes: AtomicUsize::new(0),
        });
        let vault = TokenVault::new(store, ACCOUNT).with_chunks_of(CHUNK_UNITS);
        let old = vault.load().await.unwrap().expect("the old session");
        assert_eq!(generation_of(&old), 'o');
        vault.save(&long_session('n')).await.unwrap();
        println!("saved");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service session: run through the project's test script"]
async fn killed_in_a_chunked_rotation_reads_the_old_or_the_new_session_whole() {
    if let Ok(service) = std::env::var("FAULT_KILL_CHUNKED_SERVICE") {
        tokio::task::spawn_blocking(move || chunked_child(&service))
            .await
            .unwrap();
        return;
    }
    let mut kills = 0;
    for kill_at in 1.. {
        // Given the old session in chunks
        let service = format!("fault-kill-chunked-{}-{kill_at}", std::process::id());
        let store = Arc::new(KeyringStore::new(service.clone()));
        TokenVault::new(store.clone(), ACCOUNT)
            .with_chunks_of(CHUNK_UNITS)
            .save(&long_session('o'))
            .await
            .unwrap();

        // When a process rotating it is killed at write `kill_at`
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", CHUNKED_TEST, "--nocapture", "--include-ignored"])
            .env("FAULT_KILL_CHUNKED_SERVICE", &service);
        let killed = tokio::task::spawn_blocking(move || run_and_kill(command, Some(kill_at)))
            .await
            .unwrap();

        // Then the next start reads one whole session: the old one, or the new one
        let vault = TokenVault::new(store, ACCOUNT);
        let loaded = vault
            .load()
            .await
            .unwrap_or_else(|error| panic!("killed at write {kill_at}: next start fails: {error}"))
            .unwrap_or_else(|| panic!("killed at write {kill_at}: the session is lost"));
        let generation = generation_of(&loaded);
        if killed {
            kills += 1;
            assert!(generation == 'o' || generation == 'n', "{generation}");
        } else {
            assert_eq!(generation, 'n');
        }
        vault.purge().await.unwrap();
        assert!(vault.load().await.unwrap().is_none());
        if !killed {
            break;
        }
        assert!(kill_at < 10, "the rotation never finished writing");
    }
    assert!(kills >= 3, "only {kills} writes were interrupted");
    eprintln!("killed at each of {kills} writes of a chunked rotation; read whole every time");
}
