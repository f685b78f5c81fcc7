//! Another local user reads the emulator's data files (issue 25, item 1):
//! the database holds the signing keys and the live session ids, so whoever
//! reads it signs tokens the broker accepts. The real binary on a fresh
//! `--data` path makes its folder 0700 and the database, its `-wal` and
//! `-shm` and the client secret file 0600; an existing database others
//! could read is made private at start; files of another user are refused.
//!
//! The binary runs under umask 000, so every mode is the one it sets. Run as
//! root with `setpriv` present (CI), each file is also read as
//! `nobody` (uid 65534), which must fail; elsewhere that part is skipped.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use url::Url;

/// The user the attacker is: `nobody`.
const NOBODY: u32 = 65_534;

struct Emulator {
    child: Child,
    base: Url,
    stderr: JoinHandle<String>,
}

/// The app's layout: `emulator.db` and `broker-client-secret` in `folder`.
fn files(folder: &Path) -> (PathBuf, PathBuf) {
    (
        folder.join("emulator.db"),
        folder.join("broker-client-secret"),
    )
}

/// The binary with its data in `folder`, under umask 000: every mode it ends
/// up with is the one it asked for, not one a umask took bits from.
fn command(folder: &Path) -> Command {
    let (data, secret) = files(folder);
    let mut command = Command::new("/bin/sh");
    command
        .args(["-c", "umask 000 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_scalekit-emulator"))
        .args(["--listen", "127.0.0.1:0", "--exit-on-stdin-close", "--data"])
        .arg(data)
        .arg("--client-secret-file")
        .arg(secret)
        .env("RUST_LOG", "warn");
    command
}

/// Starts the binary with its data in `folder` and waits for its URL.
fn start(folder: &Path) -> Emulator {
    let mut child = command(folder)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    std::thread::spawn(move || for _ in stdout.lines() {});
    let Ok(base) = Url::parse(first.trim()) else {
        let _ = child.kill();
        panic!("no URL: {first:?}; {}", stderr.join().unwrap());
    };
    Emulator {
        child,
        base,
        stderr,
    }
}

impl Emulator {
    /// Stops it by closing its stdin; returns its stderr.
    fn stop(mut self) -> String {
        drop(self.child.stdin.take());
        assert!(self.child.wait().unwrap().success());
        self.stderr.join().unwrap()
    }

    /// Kills it (SIGKILL): the `-wal` and `-shm` files stay behind.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

async fn kid(base: &Url) -> String {
    let jwks: serde_json::Value = reqwest::get(base.join("/keys").unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"][0]["kid"].as_str().unwrap().to_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `path` with SQLite's `suffix` (`-wal`, `-shm`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The database and SQLite's files beside it, and the secret file.
fn data_files(folder: &Path) -> Vec<PathBuf> {
    let (data, secret) = files(folder);
    vec![beside(&data, "-wal"), beside(&data, "-shm"), data, secret]
}

/// A folder whose parent others may enter (as a home folder often is), so
/// that what keeps them out is the modes the emulator sets.
fn enterable_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o755);
    dir
}

fn running_as_root() -> bool {
    let dir = tempfile::tempdir().unwrap();
    std::fs::metadata(dir.path()).unwrap().uid() == 0
}

/// Whether `nobody` can be the attacker here: as root, with `setpriv`.
fn attacker_available() -> bool {
    let setpriv = Command::new("setpriv").arg("--version").output();
    let available = running_as_root() && setpriv.is_ok_and(|out| out.status.success());
    if !available {
        eprintln!("not root or no setpriv: the reads as another user are skipped");
    }
    available
}

/// Runs `program path` as `nobody`; whether it succeeded.
fn as_nobody(program: &str, path: &Path) -> bool {
    Command::new("setpriv")
        .args([
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".to_owned(),
            program.to_owned(),
        ])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn a_fresh_data_folder_and_its_files_are_private_and_nobody_else_can_read_them() {
    // Given a data folder that does not exist yet, in one others may enter
    let parent = enterable_dir();
    let folder = parent.path().join("dev.passkeys.desktop");

    // When the emulator starts on it
    let emulator = start(&folder);

    // Then the folder is 0700, and the database, its -wal and -shm and the
    // secret 0600
    assert_eq!(mode(&folder), 0o700);
    for file in data_files(&folder) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // And another user can neither list the folder nor read a file in it,
    // while a file left open beside it is read (the attacker is real)
    if attacker_available() {
        let open = parent.path().join("open");
        std::fs::write(&open, "anyone").unwrap();
        set_mode(&open, 0o644);
        assert!(as_nobody("cat", &open), "nobody cannot read at all here");
        assert!(!as_nobody("ls", &folder), "nobody listed the data folder");
        for file in data_files(&folder) {
            assert!(!as_nobody("cat", &file), "nobody read {}", file.display());
        }
    }
    emulator.stop();
}

#[test]
fn in_a_folder_others_may_enter_the_files_themselves_keep_them_out() {
    // Given an existing folder that everyone may enter (the emulator leaves
    // an existing folder as it is: `--data` may point into /tmp)
    let folder = enterable_dir();

    // When the emulator starts with its files there
    let emulator = start(folder.path());

    // Then each file is 0600 and another user reads none of them
    assert_eq!(mode(folder.path()), 0o755, "the folder is left as it was");
    for file in data_files(folder.path()) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    if attacker_available() {
        assert!(as_nobody("ls", folder.path()), "nobody cannot enter here");
        for file in data_files(folder.path()) {
            assert!(!as_nobody("cat", &file), "nobody read {}", file.display());
        }
    }
    emulator.stop();
}

#[tokio::test]
async fn a_database_others_could_read_is_made_private_at_start_and_keeps_its_keys() {
    // Given a database, -wal and -shm left readable by everyone, as earlier
    // versions made them (and a kill left the -wal and -shm behind)
    let folder = enterable_dir();
    let first = start(folder.path());
    let kid_before = kid(&first.base).await;
    first.kill();
    let (data, _) = files(folder.path());
    let open = [data.clone(), beside(&data, "-wal"), beside(&data, "-shm")];
    for file in &open {
        set_mode(file, 0o644);
    }

    // When the emulator starts on it again
    let again = start(folder.path());

    // Then all three are 0600, the same signing key is served, and the
    // repair was logged with the file's name
    for file in &open {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    if attacker_available() {
        for file in &open {
            assert!(!as_nobody("cat", file), "nobody read {}", file.display());
        }
    }
    assert_eq!(kid(&again.base).await, kid_before);
    let log = again.stop();
    assert!(log.contains("made it private"), "{log}");
    assert!(log.contains(&data.display().to_string()), "{log}");
    assert!(log.contains("signing keys"), "{log}");
}

#[test]
fn files_of_another_user_are_refused_with_their_name() {
    if !running_as_root() {
        eprintln!("not root: cannot give files to another user; skipped");
        return;
    }
    // Given each data file in turn belonging to another user
    let folder = enterable_dir();
    start(folder.path()).kill();
    for file in data_files(folder.path()) {
        std::os::unix::fs::chown(&file, Some(NOBODY), Some(NOBODY)).unwrap();

        // When the emulator starts
        let output = command(folder.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();

        // Then it refuses, naming the file and what to do
        assert!(!output.status.success(), "{}", file.display());
        assert!(output.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("belongs to another user"), "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains("move the file away"), "{stderr}");
        std::os::unix::fs::chown(&file, Some(0), Some(0)).unwrap();
    }
}
