//! The demo confidential client's secret in a file (`--client-secret-file`),
//! so a second process (the passkeys broker) can read the same secret
//! without it ever being printed, logged or passed on a command line.
//!
//! ```no_run
//! # fn run() -> scalekit_emulator::Result<()> {
//! let secret = scalekit_emulator::secret_file::load_or_create(
//!     std::path::Path::new("broker-client-secret"),
//! )?;
//! # let _ = secret;
//! # Ok(())
//! # }
//! ```

use std::io::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::private_files::{self, IfOpen};
use crate::secret::{random_token, ClientSecret};

/// Random bytes in a new secret (base64url without padding: 43 characters).
pub const SECRET_BYTES: usize = 32;

/// Reads the secret from `path` (surrounding whitespace trimmed), or, when
/// nothing is there, creates the file with a fresh random secret. On unix
/// the file is created with mode 0600 in the same call that creates it, and
/// an existing file that belongs to another user or that group or other
/// users may access is refused ([`private_files`]).
///
/// # Errors
/// [`Error::Config`] when the file cannot be created or read, is empty, is
/// not a regular file, or (on unix) belongs to another user or is open to
/// other users.
pub fn load_or_create(path: &Path) -> Result<ClientSecret> {
    let secret = random_token(SECRET_BYTES);
    match private_files::create_file(path) {
        Ok(mut file) => {
            let written = file
                .write_all(format!("{secret}\n").as_bytes())
                .and_then(|()| file.sync_all());
            if let Err(error) = written {
                let _ = std::fs::remove_file(path);
                return Err(failed(path, "cannot write", &error));
            }
            Ok(ClientSecret::new(secret))
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_existing(path),
        Err(error) => Err(failed(path, "cannot create", &error)),
    }
}

fn failed(path: &Path, what: &str, error: &dyn std::fmt::Display) -> Error {
    Error::Config(format!(
        "{what} the client secret file {}: {error}",
        path.display()
    ))
}

fn read_existing(path: &Path) -> Result<ClientSecret> {
    // A secret others could read must be replaced, not just hidden: refused.
    private_files::check_file(path, "the client secret file", IfOpen::Refuse)?;
    let text = std::fs::read_to_string(path).map_err(|e| failed(path, "cannot read", &e))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(Error::Config(format!(
            "the client secret file {} is empty",
            path.display()
        )));
    }
    Ok(ClientSecret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_created_with_a_fresh_private_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let first = load_or_create(&path).unwrap();
        assert_eq!(first.secret().len(), 43);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", first.secret())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Read back, not replaced.
        assert_eq!(load_or_create(&path).unwrap(), first);
        let other = dir.path().join("other");
        assert_ne!(load_or_create(&other).unwrap(), first);
    }

    #[test]
    fn an_existing_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "  given-secret \r\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        }
        assert_eq!(load_or_create(&path).unwrap().secret(), "given-secret");
    }

    #[test]
    fn empty_files_directories_and_missing_parents_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let cases = [
            (empty, "is empty"),
            (dir.path().to_owned(), "not a regular file"),
            (dir.path().join("no/such/dir/secret"), "cannot create"),
        ];
        for (path, expected) in cases {
            match load_or_create(&path) {
                Err(Error::Config(message)) => assert!(message.contains(expected), "{message}"),
                other => panic!("{}: {other:?}", path.display()),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_file_other_users_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "shared-secret\n").unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            match load_or_create(&path) {
                Err(Error::Config(message)) => {
                    assert!(message.contains("open to other users"), "{message}");
                    assert!(!message.contains("shared-secret"), "{message}");
                }
                other => panic!("mode {mode:o} accepted: {other:?}"),
            }
        }
        // The file is left as it was.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "shared-secret\n");
    }
}
