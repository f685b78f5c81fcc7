//! `--client-secret-file`: the binary's confidential demo client `skc_demo`
//! has no published secret. Its secret comes from the file (made private
//! with a fresh random secret when missing) or is random for the run, and
//! never shows in stdout, stderr or the command line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use reqwest::StatusCode;
use url::Url;

/// The secret the demo client had before this flag: published, so refused.
const OLD_DEMO_SECRET: &str = "demo-secret";

struct Emulator {
    child: Child,
    base: Url,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

fn collect(mut pipe: impl std::io::Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Starts the binary in memory with debug logs and a piped stdin (closing
/// it stops the binary); `extra` flags are appended. Its second line, the
/// dev mailbox's address with a key of its own (`attack_mailbox.rs`), is
/// read here and left out of what [`Emulator::stop`] returns.
fn start(extra: &[&std::ffi::OsStr]) -> Emulator {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--in-memory",
            "--exit-on-stdin-close",
        ])
        .args(extra)
        .env("RUST_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = Url::parse(first.trim()).unwrap_or_else(|e| panic!("{e}: {first:?}"));
    let mut mailbox = String::new();
    stdout.read_line(&mut mailbox).unwrap();
    scalekit_emulator::DevMailbox::parse(&mailbox).unwrap();
    let stdout = collect(stdout);
    let stderr = collect(child.stderr.take().unwrap());
    Emulator {
        child,
        base,
        stdout,
        stderr,
    }
}

impl Emulator {
    /// Stops the binary by closing its stdin; returns all it printed.
    fn stop(mut self) -> String {
        drop(self.child.stdin.take());
        assert!(self.child.wait().unwrap().success());
        format!(
            "{}{}",
            self.stdout.join().unwrap(),
            self.stderr.join().unwrap()
        )
    }
}

async fn grant(base: &Url, secret: &str) -> StatusCode {
    reqwest::Client::new()
        .post(base.join("/oauth/token").unwrap())
        .basic_auth("skc_demo", Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_missing_file_gets_a_private_random_secret_that_is_never_printed() {
    // Given no secret file yet
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broker-client-secret");

    // When the emulator starts with the flag
    let emulator = start(&["--client-secret-file".as_ref(), path.as_os_str()]);

    // Then the file holds a fresh 32-byte base64url secret, private to its owner
    let secret = std::fs::read_to_string(&path).unwrap().trim().to_owned();
    assert_eq!(secret.len(), 43, "{secret}");
    assert!(secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    // And it is skc_demo's secret; the old published one is refused
    assert_eq!(grant(&emulator.base, &secret).await, StatusCode::OK);
    assert_eq!(
        grant(&emulator.base, OLD_DEMO_SECRET).await,
        StatusCode::UNAUTHORIZED
    );
    let printed = emulator.stop();
    assert!(!printed.contains(&secret), "the secret was printed");

    // When it starts again with the same file, the secret is the same
    let again = start(&["--client-secret-file".as_ref(), path.as_os_str()]);
    assert_eq!(grant(&again.base, &secret).await, StatusCode::OK);
    assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), secret);
    assert!(!again.stop().contains(&secret));
}

#[tokio::test]
async fn without_the_flag_the_demo_secret_is_random_and_unprinted() {
    let emulator = start(&[]);
    assert_eq!(
        grant(&emulator.base, OLD_DEMO_SECRET).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(grant(&emulator.base, "").await, StatusCode::UNAUTHORIZED);
    // The random secret is unknown here: no word shaped like one (43
    // base64url characters) may appear in what the binary printed.
    let printed = emulator.stop();
    let shaped_like_a_secret = printed
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .find(|word| word.len() == 43);
    assert_eq!(shaped_like_a_secret, None, "{printed}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_other_users_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    // Given a secret file readable by everyone
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broker-client-secret");
    std::fs::write(&path, "a-secret-everyone-can-read\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    // When the emulator starts with it
    let output = Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--in-memory",
            "--client-secret-file",
        ])
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .unwrap();

    // Then it refuses to start, says why, and shows not the secret
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("open to other users"), "{stderr}");
    assert!(stderr.contains("chmod 600"), "{stderr}");
    assert!(!stderr.contains("a-secret-everyone-can-read"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(mode(&path), 0o644, "the file is left alone");
}

/// `--help` documents the flag.
#[test]
fn help_documents_the_flag() {
    let output = Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    let mut help = String::new();
    output.stdout.as_slice().read_to_string(&mut help).unwrap();
    assert!(help.contains("--client-secret-file <PATH>"), "{help}");
}

#[test]
fn the_owner_can_ask_for_the_secret() {
    // Given a secret file the emulator made
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broker-client-secret");
    let ask = || {
        Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"))
            .arg("--client-secret-file")
            .arg(&path)
            .arg("--show-client-secret")
            .output()
            .unwrap()
    };
    // When its owner asks for it, the secret is printed, and only that
    let first = ask();
    assert!(first.status.success(), "{first:?}");
    let shown = String::from_utf8(first.stdout).unwrap();
    assert_eq!(shown.trim(), std::fs::read_to_string(&path).unwrap().trim());
    assert_eq!(shown.trim().len(), 43);
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    // And asking again shows the same one
    assert_eq!(String::from_utf8(ask().stdout).unwrap(), shown);
    // Without a file to read it from, asking is a usage error
    let usage = Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"))
        .arg("--show-client-secret")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(usage.stdout.is_empty());
}
