//! A real keychain for one test: a private D-Bus session bus with
//! gnome-keyring's Secret Service on it, unlocked with a throw-away
//! password, in a throw-away directory. The app and `secret-tool` reach it
//! through `DBUS_SESSION_BUS_ADDRESS`. Being private, it can be locked
//! without touching other tests, and the app's single-instance name on the
//! bus is this test's alone.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::process::ChildGuard;
use crate::wait::{wait_for, UI_TIMEOUT};

/// The keyring's password (a throw-away value for a throw-away keyring).
const KEYRING_PASSWORD: &str = "e2e-keyring-password";

/// One item of the Secret Service, as `secret-tool` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeychainItem {
    /// Its attributes (`service`, `username`, …).
    pub attributes: BTreeMap<String, String>,
    /// Its secret, when the collection is unlocked.
    pub secret: Option<String>,
}

/// A D-Bus session with an unlocked gnome-keyring.
#[derive(Debug)]
pub struct Keychain {
    address: String,
    // Declared in the order they stop: the keyring before its bus.
    _keyring: ChildGuard,
    _bus: ChildGuard,
}

impl Keychain {
    /// Starts the bus and the keyring daemon, keeping their files in `dir`.
    ///
    /// # Panics
    /// When either does not start.
    #[track_caller]
    pub fn start(dir: &Path) -> Keychain {
        let data = dir.join("keyring-data");
        let runtime = dir.join("keyring-runtime");
        for path in [&data, &runtime] {
            std::fs::create_dir_all(path).expect("keyring directories");
        }
        let mut command = Command::new("dbus-daemon");
        command
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut bus = ChildGuard::spawn("dbus-daemon", command);
        let stdout = bus.take_stdout().expect("piped stdout");
        let mut address = String::new();
        BufReader::new(stdout)
            .read_line(&mut address)
            .expect("the bus address");
        let address = address.trim().to_owned();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed no address: {address:?}"
        );

        let mut command = Command::new("gnome-keyring-daemon");
        command
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut keyring = ChildGuard::spawn("gnome-keyring-daemon", command);
        if let Some(mut stdin) = keyring.take_stdin() {
            stdin
                .write_all(KEYRING_PASSWORD.as_bytes())
                .expect("give the keyring its password");
        }
        let keychain = Keychain {
            address,
            _keyring: keyring,
            _bus: bus,
        };
        wait_for(
            "gnome-keyring's Secret Service on the bus",
            UI_TIMEOUT,
            || keychain.secret_service_running().then_some(()),
        );
        keychain
    }

    /// The environment a process needs to use this keychain.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("DBUS_SESSION_BUS_ADDRESS".to_owned(), self.address.clone())]
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::null());
        command
    }

    fn secret_service_running(&self) -> bool {
        self.command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("boolean true"))
    }

    /// Every item whose `service` attribute is `service`.
    ///
    /// # Panics
    /// When `secret-tool` cannot be run.
    #[track_caller]
    pub fn items(&self, service: &str) -> Vec<KeychainItem> {
        // secret-tool prints the attributes on stderr and the rest on
        // stdout: unbuffered into one pipe, they stay in order.
        let output = self
            .command("sh")
            .args([
                "-c",
                "exec stdbuf -o0 -e0 secret-tool search --all service \"$1\" 2>&1",
                "sh",
                service,
            ])
            .output()
            .expect("run secret-tool");
        parse_items(&String::from_utf8_lossy(&output.stdout))
    }

    /// Locks the login collection, as a screen lock or the user would.
    ///
    /// # Panics
    /// When the Secret Service refuses.
    #[track_caller]
    pub fn lock(&self) {
        let status = self
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .stdout(Stdio::null())
            .status()
            .expect("run dbus-send");
        assert!(status.success(), "locking the keyring failed: {status}");
    }
}

/// Parses `secret-tool search --all` output.
fn parse_items(text: &str) -> Vec<KeychainItem> {
    let mut items = Vec::new();
    let mut current: Option<KeychainItem> = None;
    for line in text.lines() {
        if line.starts_with('[') {
            items.extend(current.take());
            current = Some(KeychainItem {
                attributes: BTreeMap::new(),
                secret: None,
            });
            continue;
        }
        let (Some(item), Some((key, value))) = (current.as_mut(), line.split_once(" = ")) else {
            continue;
        };
        if let Some(attribute) = key.strip_prefix("attribute.") {
            item.attributes
                .insert(attribute.to_owned(), value.to_owned());
        } else if key == "secret" {
            item.secret = Some(value.to_owned());
        }
    }
    items.extend(current);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_secret_tool_output() {
        let text = "[/1]\nlabel = t\nsecret = {\"a\":1}\ncreated = 2026-01-01 00:00:00\n\
                    attribute.service = svc\nattribute.username = u\n[/2]\nlabel = x\nattribute.service = svc\n";
        let items = parse_items(text);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].secret.as_deref(), Some("{\"a\":1}"));
        assert_eq!(items[0].attributes["username"], "u");
        assert_eq!(items[1].secret, None);
        assert_eq!(items[1].attributes["service"], "svc");
    }
}
