//! The app's data folder, private to the person who runs the app.
//!
//! On a first run it holds the local emulator's database (its signing keys
//! and live sessions: whoever reads them can sign tokens the broker
//! accepts), the broker's client secret and the accounts file. On unix the
//! folder is made mode 0700, so no other user can open anything in it,
//! whatever the files' own modes; the emulator keeps its files 0600 too
//! (`scalekit_emulator::private_files`), and the accounts file is written
//! 0600 (`passkeys_core`).
//!
//! At every start an existing folder must belong to the user the app runs
//! as (another user's is refused: they could read or replace what is in
//! it); one that group or other users may open is made private, and a
//! warning is logged. Elsewhere (Windows) the folder is in the person's
//! profile, whose access list already keeps other users out.
//!
//! ```no_run
//! # fn run() -> passkeys_core::Result<()> {
//! if let Some(dir) = passkeys_headless::core_start::data_dir() {
//!     passkeys_headless::data_folder::make_private(&dir)?;
//! }
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use passkeys_core::{Error, Result};

/// Creates `dir` (and missing parents) mode 0700 on unix, or checks an
/// existing one: it must be a folder of this user, and is made 0700 if
/// group or other users may open it.
///
/// # Errors
/// `config` naming the folder and what to do, when it cannot be created,
/// is not a folder, belongs to another user or cannot be made private.
pub fn make_private(dir: &Path) -> Result<()> {
    let metadata = match std::fs::metadata(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            create(dir)?;
            std::fs::metadata(dir)
        }
        found => found,
    }
    .map_err(|error| {
        Error::Config(format!(
            "Could not read the app's data folder {}: {error}.",
            dir.display()
        ))
    })?;
    if !metadata.is_dir() {
        return Err(Error::Config(format!(
            "The app's data folder {} is not a folder: move it away so that one can be made.",
            dir.display()
        )));
    }
    platform::check(dir, &metadata)
}

/// Creates `dir` and its missing parents, each one mode 0700 on unix.
fn create(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|error| {
        Error::Config(format!(
            "Could not create the app's data folder {}: {error}.",
            dir.display()
        ))
    })
}

#[cfg(unix)]
use unix as platform;

#[cfg(not(unix))]
use elsewhere as platform;

/// Not unix: the profile's access list applies; nothing more is checked.
#[cfg(not(unix))]
mod elsewhere {
    use std::path::Path;

    use passkeys_core::Result;

    pub(super) fn check(_dir: &Path, _metadata: &std::fs::Metadata) -> Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
mod unix {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    use std::path::Path;

    use passkeys_core::{Error, Result};

    /// Permission bits of group and other users.
    const OTHERS: u32 = 0o077;

    pub(super) fn check(dir: &Path, metadata: &std::fs::Metadata) -> Result<()> {
        let owner = metadata.uid();
        let me = own_uid();
        if owner != me {
            return Err(Error::Config(format!(
                "The app's data folder {} belongs to another user (uid {owner}; the app runs as \
                 uid {me}), who could read or replace the local environment's keys. Start the \
                 app as that user, or move the folder away so that a new one is made.",
                dir.display()
            )));
        }
        let mode = metadata.permissions().mode() & 0o777;
        if mode & OTHERS == 0 {
            return Ok(());
        }
        let private = mode & !OTHERS;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(private)).map_err(
            |error| {
                Error::Config(format!(
                    "The app's data folder {} is open to other users (mode {mode:03o}) and could \
                     not be made private ({error}). Make it private with `chmod 700`.",
                    dir.display()
                ))
            },
        )?;
        tracing::warn!(
            "the app's data folder {} was open to other users (mode {mode:03o}); made it \
             private (mode {private:03o})",
            dir.display()
        );
        Ok(())
    }

    /// The user id this process's files get (its effective uid).
    fn own_uid() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_own_uid_is_the_owner_of_a_new_file() {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("f"), "").unwrap();
            let owner = std::fs::metadata(dir.path().join("f")).unwrap().uid();
            assert_eq!(own_uid(), owner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_where_the_folder_belongs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        match make_private(&file) {
            Err(Error::Config(message)) => assert!(message.contains("not a folder"), "{message}"),
            other => panic!("{other:?}"),
        }
    }
}
