//! Another local user reads the app's data folder (issue 25, item 1): on a
//! first run it holds the local emulator's database with its signing keys.
//! The folder is made 0700 when the app makes it, and an existing one that
//! others may open is made private at start, so nothing in it can be read
//! by them whatever the files' own modes; another user's folder is refused.
//!
//! Run as root with `setpriv` present (CI), the files are also read as
//! `nobody` (uid 65534); elsewhere that part is skipped.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::{Command, Stdio};

use passkeys_core::Error;
use passkeys_headless::data_folder::make_private;

/// The user the attacker is: `nobody`.
const NOBODY: u32 = 65_534;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A folder others may enter (as a home folder often is).
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
fn a_new_data_folder_is_private_and_nobody_else_reads_what_is_in_it() {
    // Given no data folder yet (nor its parent)
    let home = enterable_dir();
    let folder = home.path().join("share/dev.passkeys.desktop");

    // When the app makes it, and a careless file lands in it
    make_private(&folder).unwrap();
    let file = folder.join("emulator.db");
    std::fs::write(&file, "signing keys").unwrap();
    set_mode(&file, 0o644);

    // Then the folder is 0700 and another user reads nothing in it
    assert_eq!(mode(&folder), 0o700);
    if attacker_available() {
        assert!(!as_nobody("ls", &folder), "nobody listed the data folder");
        assert!(!as_nobody("cat", &file), "nobody read the database");
    }
}

#[test]
fn an_existing_folder_others_could_open_is_made_private_at_start() {
    // Given the folder an earlier version made (0755) with a readable file
    let home = enterable_dir();
    let folder = home.path().join("dev.passkeys.desktop");
    std::fs::create_dir(&folder).unwrap();
    set_mode(&folder, 0o755);
    let file = folder.join("emulator.db");
    std::fs::write(&file, "signing keys").unwrap();
    set_mode(&file, 0o644);
    let attacker = attacker_available();
    if attacker {
        assert!(as_nobody("cat", &file), "the attacker could read it before");
    }

    // When the app starts
    make_private(&folder).unwrap();

    // Then the folder is 0700 and the attacker reads nothing any more
    assert_eq!(mode(&folder), 0o700);
    if attacker {
        assert!(!as_nobody("cat", &file), "nobody still reads the database");
    }
    // And a private folder is left as it is
    set_mode(&folder, 0o500);
    make_private(&folder).unwrap();
    assert_eq!(mode(&folder), 0o500);
    set_mode(&folder, 0o700);
}

#[test]
fn a_data_folder_of_another_user_is_refused_with_its_name() {
    if !running_as_root() {
        eprintln!("not root: cannot give a folder to another user; skipped");
        return;
    }
    // Given a data folder that belongs to another user
    let home = enterable_dir();
    let folder = home.path().join("dev.passkeys.desktop");
    std::fs::create_dir(&folder).unwrap();
    set_mode(&folder, 0o777);
    std::os::unix::fs::chown(&folder, Some(NOBODY), Some(NOBODY)).unwrap();

    // When the app starts, it refuses, naming the folder and what to do
    match make_private(&folder) {
        Err(Error::Config(message)) => {
            assert!(message.contains("belongs to another user"), "{message}");
            assert!(message.contains(&folder.display().to_string()), "{message}");
            assert!(message.contains("move the folder away"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // And leaves it as it was
    assert_eq!(mode(&folder), 0o777);
}
