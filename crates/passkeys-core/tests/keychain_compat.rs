//! The Secret Service store and `keyring` 3 against a real Secret Service:
//! each reads, replaces and deletes the items the other wrote (the same
//! attributes, label and content type), and the store's one session survives
//! the keyring daemon restarting.
//!
//! Ignored by default: the project's test script runs them inside a
//! private, unlocked gnome-keyring. Every test uses a random service name
//! and removes what it stored.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dbus_secret_service::{EncryptionType, SecretService};
use keyring::credential::CredentialApi;
use keyring::secret_service::SsCredential;
use passkeys_core::{KeyringStore, SecretStore};

const USER: &str = "http://localhost:4000/|ntvc_demo";
const RESTART_CHILD: &str = "PASSKEYS_CORE_TEST_RESTART_CHILD";
/// The password `scripts/with-keyring` gives its throw-away keyring.
const KEYRING_PASSWORD: &str = "test-keyring-password";

fn random_service() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("passkeys-core-compat-{}-{nanos}", std::process::id())
}

/// `keyring`'s own credential for `service` (default target).
fn keyring_entry(service: &str) -> SsCredential {
    let entry = SsCredential::new_with_target(None, service, USER).unwrap();
    match entry.get_password() {
        Ok(_) | Err(keyring::Error::NoEntry) => entry,
        Err(error) => panic!(
            "No Secret Service is reachable ({error}); run through the project's scripts/with-keyring"
        ),
    }
}

/// The attributes and label of the one item matching `entry` (an error if
/// there are several). Without `xdg:schema`, which gnome-keyring adds by
/// itself to some items (the first one written to a new keyring).
fn item_description(entry: &SsCredential) -> (HashMap<String, String>, String) {
    let mut found = entry.new_from_matching_item().unwrap();
    found.attributes.remove("xdg:schema");
    (found.attributes, found.label)
}

/// The content type of the one item for `service`, through a session of its own.
fn content_type(service: &str) -> String {
    let secret_service = SecretService::connect(EncryptionType::Dh).unwrap();
    let found = secret_service
        .search_items(HashMap::from([("service", service), ("username", USER)]))
        .unwrap();
    assert_eq!((found.unlocked.len(), found.locked.len()), (1, 0));
    found.unlocked[0].get_secret_content_type().unwrap()
}

/// What `secret-tool` (the end-to-end harness's reader) finds.
fn secret_tool_lookup(service: &str) -> String {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", USER])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
#[ignore = "needs a Secret Service session: run through the project's test script"]
fn an_item_keyring_wrote_is_read_replaced_and_deleted_by_the_store() {
    // Given a session stored by keyring (what earlier versions wrote)
    let service = random_service();
    let entry = keyring_entry(&service);
    entry.set_password("from keyring").unwrap();
    let written_by_keyring = item_description(&entry);

    // When the store reads it, then stores a rotated one
    let store = KeyringStore::new(&service);
    assert_eq!(store.get(USER).unwrap().as_deref(), Some("from keyring"));
    store.set(USER, "from the store").unwrap();

    // Then the item was replaced, not duplicated, and is described as keyring describes it
    assert_eq!(entry.get_all_passwords().unwrap(), ["from the store"]);
    assert_eq!(item_description(&entry), written_by_keyring);

    // And the store's delete removes it for keyring too
    store.delete(USER).unwrap();
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
    assert_eq!(store.get(USER).unwrap(), None);
}

#[test]
#[ignore = "needs a Secret Service session: run through the project's test script"]
fn an_item_the_store_wrote_is_read_replaced_and_deleted_by_keyring() {
    // Given a session stored by the store
    let service = random_service();
    let entry = keyring_entry(&service);
    let store = KeyringStore::new(&service);
    store.set(USER, "from the store").unwrap();

    // Then it is the item keyring writes (attributes, label and content
    // type), keyring writing for another service
    let twin_service = format!("{service}-keyring");
    let twin = keyring_entry(&twin_service);
    twin.set_password("from keyring").unwrap();
    let (mut attributes, label) = item_description(&twin);
    twin.delete_credential().unwrap();
    attributes.insert("service".into(), service.clone());
    let label = label.replace(&twin_service, &service);
    assert_eq!(item_description(&entry), (attributes, label));
    assert_eq!(content_type(&service), "text/plain");
    // And keyring and secret-tool read it
    assert_eq!(entry.get_password().unwrap(), "from the store");
    assert_eq!(secret_tool_lookup(&service), "from the store");

    // When keyring replaces it, the store reads the new value from the one item
    entry.set_password("from keyring").unwrap();
    assert_eq!(store.get(USER).unwrap().as_deref(), Some("from keyring"));
    assert_eq!(entry.get_all_passwords().unwrap(), ["from keyring"]);

    // When keyring deletes it, the store finds nothing
    entry.delete_credential().unwrap();
    assert_eq!(store.get(USER).unwrap(), None);
    store.delete(USER).unwrap();
}

/// The keyring daemon restarted under a running app (an update, a crash):
/// the store's session is gone with it; its next save, read and delete
/// open a new one instead of failing. Runs in a private keyring of its own
/// (through the project's `scripts/with-keyring`) because it restarts that
/// keyring's daemon.
#[test]
#[ignore = "needs a Secret Service session: run through the project's test script"]
fn the_store_reconnects_after_the_keyring_daemon_restarts() {
    const TEST: &str = "the_store_reconnects_after_the_keyring_daemon_restarts";
    if std::env::var(RESTART_CHILD).is_err() {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-keyring");
        let output = Command::new(script)
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--include-ignored"])
            .env(RESTART_CHILD, "1")
            .env_remove("PASSKEYS_KEYRING_SESSION")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("child: reconnected"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let service = random_service();
    let entry = keyring_entry(&service);
    let store = KeyringStore::new(&service);
    store.set(USER, "before").unwrap();

    restart_keyring_daemon();
    store.set(USER, "after").unwrap();
    assert_eq!(entry.get_all_passwords().unwrap(), ["after"]);

    restart_keyring_daemon();
    assert_eq!(store.get(USER).unwrap().as_deref(), Some("after"));

    restart_keyring_daemon();
    store.delete(USER).unwrap();
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
    println!("child: reconnected");
}

/// Stops the daemon that owns the Secret Service name and starts a new one
/// on the same (unlocked) keyring.
fn restart_keyring_daemon() {
    let reply = bus_call(&[
        "org.freedesktop.DBus.GetConnectionUnixProcessID",
        "string:org.freedesktop.secrets",
    ]);
    let pid = reply
        .split_whitespace()
        .skip_while(|word| *word != "uint32")
        .nth(1)
        .expect("the daemon's process id");
    assert!(Command::new("kill").arg(pid).status().unwrap().success());
    wait_for_owner(false);
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    daemon
        .stdin
        .take()
        .unwrap()
        .write_all(KEYRING_PASSWORD.as_bytes())
        .unwrap();
    // It forks the daemon and exits.
    assert!(daemon.wait().unwrap().success());
    wait_for_owner(true);
}

fn wait_for_owner(owned: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = bus_call(&[
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ]);
        if reply.contains(if owned {
            "boolean true"
        } else {
            "boolean false"
        }) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the Secret Service name is still {}owned",
            if owned { "not " } else { "" }
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Calls the bus itself; returns the reply.
fn bus_call(call: &[&str]) -> String {
    let output = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
        ])
        .args(call)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
