//! Files only their owner may open: the database (with the `-wal`, `-shm`
//! and `-journal` files SQLite keeps beside it), the client secret file, and
//! a folder the emulator makes for them. The database holds the signing
//! keys and the live session ids: whoever can read it can sign tokens that
//! the broker accepts.
//!
//! The rule, in this one place (unix):
//!
//! - a folder the emulator makes is mode 0700 and a file it makes is 0600,
//!   set in the call that creates it (a umask only ever takes bits away);
//!   SQLite gives the `-wal`, `-shm` and `-journal` files it creates the
//!   database file's mode, whatever the umask;
//! - an existing file must belong to the user the emulator runs as, or it is
//!   refused: its owner can read it or put other keys in it;
//! - an existing file that group or other users may open is either repaired
//!   ([`IfOpen::Repair`]: those bits are cleared and a warning is logged) or
//!   refused ([`IfOpen::Refuse`]).
//!
//! An existing folder is left as it is (`--data` may name a file in a shared
//! folder such as `/tmp`): the app makes its own data folder private.
//! Elsewhere (Windows) files get the folder's access list, and only the
//! kind of file is checked.
//!
//! ```no_run
//! # fn run() -> scalekit_emulator::Result<()> {
//! use scalekit_emulator::private_files::{self, IfOpen};
//! let path = std::path::Path::new("data/emulator.db");
//! private_files::create_folder(std::path::Path::new("data"))?;
//! if private_files::check_file(path, "the database", IfOpen::Repair)?
//!     == private_files::Checked::Missing
//! {
//!     private_files::create_file(path)?;
//! }
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use crate::error::{Error, Result};

/// What to do with an existing file that group or other users may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfOpen {
    /// Clear its group and other permission bits, and log a warning. For the
    /// database: earlier versions made it readable by everyone, and its
    /// owner's data must survive the upgrade.
    Repair,
    /// Refuse it, with what to do. For a secret: one others could read must
    /// be replaced, not just hidden.
    Refuse,
}

/// What [`check_file`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Nothing is there.
    Missing,
    /// A regular file of ours that only we may open (on unix; elsewhere a
    /// regular file).
    Private,
    /// A regular file of ours that group or other users could open, now
    /// private ([`IfOpen::Repair`]).
    Repaired,
}

/// Creates `folder` and any missing parents, each one mode 0700 on unix. An
/// existing folder is left as it is.
///
/// # Errors
/// [`Error::Config`] naming the folder when it cannot be created.
pub fn create_folder(folder: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder).map_err(|error| {
        Error::Config(format!(
            "cannot create the folder {}: {error}",
            folder.display()
        ))
    })
}

/// Creates `path` only if nothing (not even a dangling link) is there,
/// readable and writable by its owner only (mode 0600 on unix) from the
/// moment it exists.
///
/// # Errors
/// The I/O error, [`std::io::ErrorKind::AlreadyExists`] when something is
/// there.
pub fn create_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Checks the file at `path`, if there is one: it must be a regular file,
/// and on unix belong to the user this process runs as and be open to no
/// one else (`if_open` says whether to repair or refuse one that is).
/// `what` names it in messages ("the database").
///
/// # Errors
/// [`Error::Config`] naming the file and what to do, when it is not a
/// regular file, belongs to another user, is open to others and
/// [`IfOpen::Refuse`] is asked, or cannot be read or repaired.
pub fn check_file(path: &Path, what: &str, if_open: IfOpen) -> Result<Checked> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Checked::Missing),
        Err(error) => {
            return Err(Error::Config(format!(
                "cannot read {what} {}: {error}",
                path.display()
            )))
        }
    };
    if !metadata.is_file() {
        return Err(Error::Config(format!(
            "{what} {} is not a regular file",
            path.display()
        )));
    }
    platform::check(path, &metadata, what, if_open)
}

#[cfg(unix)]
use unix as platform;

#[cfg(not(unix))]
use elsewhere as platform;

/// Not unix: the folder's access list applies; nothing more is checked.
#[cfg(not(unix))]
mod elsewhere {
    use std::path::Path;

    use super::{Checked, IfOpen};
    use crate::error::Result;

    pub(super) fn check(
        _path: &Path,
        _metadata: &std::fs::Metadata,
        _what: &str,
        _if_open: IfOpen,
    ) -> Result<Checked> {
        Ok(Checked::Private)
    }
}

#[cfg(unix)]
mod unix {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    use std::path::Path;

    use super::{Checked, IfOpen};
    use crate::error::{Error, Result};

    /// Permission bits of group and other users.
    const OTHERS: u32 = 0o077;

    pub(super) fn check(
        path: &Path,
        metadata: &std::fs::Metadata,
        what: &str,
        if_open: IfOpen,
    ) -> Result<Checked> {
        let owner = metadata.uid();
        let me = own_uid();
        if owner != me {
            return Err(Error::Config(format!(
                "{what} {} belongs to another user (uid {owner}; the emulator runs as uid {me}), \
                 who can read it or change it: start the emulator as that user, or move the file \
                 away to have a new one made",
                path.display()
            )));
        }
        let mode = metadata.permissions().mode() & 0o777;
        if mode & OTHERS == 0 {
            return Ok(Checked::Private);
        }
        match if_open {
            IfOpen::Refuse => Err(Error::Config(format!(
                "{what} {} is open to other users (mode {mode:03o}); make it private with \
                 `chmod 600` or delete it to have a new one made",
                path.display()
            ))),
            IfOpen::Repair => {
                let private = mode & !OTHERS;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(private)).map_err(
                    |error| {
                        Error::Config(format!(
                            "{what} {} is open to other users (mode {mode:03o}) and cannot be \
                             made private ({error}): make it private with `chmod 600`",
                            path.display()
                        ))
                    },
                )?;
                tracing::warn!(
                    "{what} {} was open to other users (mode {mode:03o}); made it private \
                     (mode {private:03o})",
                    path.display()
                );
                Ok(Checked::Repaired)
            }
        }
    }

    /// The user id this process's files get (its effective uid).
    fn own_uid() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    #[cfg(test)]
    mod tests {
        use super::super::create_file;
        use super::*;

        #[test]
        fn the_own_uid_is_the_owner_of_a_new_file() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new");
            let file = create_file(&path).unwrap();
            assert_eq!(own_uid(), file.metadata().unwrap().uid());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn new_folders_and_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a/b");
        create_folder(&folder).unwrap();
        create_folder(&folder).unwrap();
        let file = folder.join("f");
        create_file(&file).unwrap();
        let again = create_file(&file).unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(
            check_file(&file, "f", IfOpen::Refuse).unwrap(),
            Checked::Private
        );
        #[cfg(unix)]
        {
            assert_eq!(mode(&dir.path().join("a")), 0o700);
            assert_eq!(mode(&folder), 0o700);
            assert_eq!(mode(&file), 0o600);
        }
    }

    #[test]
    fn missing_files_and_folders_where_a_file_belongs() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert_eq!(
            check_file(&missing, "f", IfOpen::Refuse).unwrap(),
            Checked::Missing
        );
        match check_file(dir.path(), "the database", IfOpen::Repair) {
            Err(Error::Config(message)) => {
                assert!(message.contains("not a regular file"), "{message}");
                assert!(message.starts_with("the database "), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn files_open_to_others_are_repaired_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "x").unwrap();
        for (open, private) in [
            (0o644, 0o600),
            (0o666, 0o600),
            (0o640, 0o600),
            (0o444, 0o400),
        ] {
            set_mode(&path, open);
            match check_file(&path, "the file", IfOpen::Refuse) {
                Err(Error::Config(message)) => {
                    assert!(message.contains("open to other users"), "{message}");
                    assert!(message.contains("chmod 600"), "{message}");
                    assert!(message.contains(&path.display().to_string()), "{message}");
                }
                other => panic!("mode {open:o} accepted: {other:?}"),
            }
            assert_eq!(mode(&path), open, "refused: left as it was");
            assert_eq!(
                check_file(&path, "the file", IfOpen::Repair).unwrap(),
                Checked::Repaired
            );
            assert_eq!(mode(&path), private);
            assert_eq!(
                check_file(&path, "the file", IfOpen::Repair).unwrap(),
                Checked::Private
            );
        }
    }
}
