//! The SQLite database: one connection behind a mutex, migrations, and the
//! store functions. Store functions take a `&Connection` (a `Transaction`
//! derefs to one) so several can run in one transaction inside
//! [`Db::call`].

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use crate::config::Storage;
use crate::error::{Error, Result};
use crate::private_files::{self, Checked, IfOpen};

mod oauth;
mod passkeys;
mod sessions;
mod settings;
mod signing_keys;
mod tokens;
mod users;

pub use oauth::*;
pub use passkeys::*;
pub use sessions::*;
pub use settings::*;
pub use signing_keys::*;
pub use tokens::*;
pub use users::*;

/// The schema, one step per release that changed it. Steps are only ever
/// appended: a database file made by an older emulator runs the steps it
/// lacks (`PRAGMA user_version` counts the ones it ran).
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("schema.sql")),
    M::up(include_str!("migration_2.sql")),
];

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Db {
    connection: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Opens (creating if needed) and migrates the database.
    ///
    /// # Errors
    /// When the file cannot be opened or the migration fails.
    pub fn open(storage: &Storage) -> Result<Self> {
        let mut connection = match storage {
            Storage::File(path) => open_file(path)?,
            Storage::InMemory => Connection::open_in_memory()?,
        };
        connection.pragma_update(None, "foreign_keys", true)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        Migrations::from_slice(MIGRATIONS).to_latest(&mut connection)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `f` on the connection, off the async scheduler. Use
    /// `conn.transaction()` inside `f` for multi-statement writes, so a
    /// failure changes nothing.
    ///
    /// On a multi-threaded runtime (the binary's) it runs in place
    /// (`block_in_place`: the worker's other tasks move to another worker),
    /// which saves handing every statement to the blocking pool and back —
    /// two thread wake-ups per call, a tenth of a refresh grant's time. On
    /// a current-thread runtime (most tests) it goes to the blocking pool.
    ///
    /// # Errors
    /// Whatever `f` returns, or [`Error::Internal`] if the task panicked.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        let run = move || {
            let mut guard = connection
                .lock()
                .map_err(|_| Error::Internal("database lock poisoned".into()))?;
            f(&mut guard)
        };
        let multi_thread = tokio::runtime::Handle::try_current().is_ok_and(|handle| {
            handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        });
        if multi_thread {
            return tokio::task::block_in_place(run);
        }
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|e| Error::Internal(format!("database task failed: {e}")))?
    }
}

fn open_file(path: &Path) -> Result<Connection> {
    make_private(path)?;
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(connection)
}

/// The files SQLite keeps beside a database: the write-ahead log and its
/// index in WAL mode (the emulator's), the rollback journal otherwise. It
/// creates them with the database file's mode.
const COMPANIONS: [(&str, &str); 3] = [
    ("-wal", "the database's write-ahead log"),
    ("-shm", "the database's shared-memory index"),
    ("-journal", "the database's journal"),
];

/// Before SQLite opens `path` ([`crate::private_files`]): its folder is made
/// (mode 0700) if missing; the database and the files beside it that exist
/// must be ours, and are made private if others could open them (the signing
/// keys are in there); a missing database is created empty, mode 0600, so
/// that SQLite never creates it with the umask's mode.
fn make_private(path: &Path) -> Result<()> {
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        private_files::create_folder(folder)?;
    }
    for (suffix, what) in COMPANIONS {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        private_files::check_file(Path::new(&companion), what, IfOpen::Repair)?;
    }
    let checked = private_files::check_file(path, "the database", IfOpen::Repair)?;
    if checked == Checked::Repaired {
        tracing::warn!(
            "whoever copied the database {} while it was open holds its signing keys and can \
             sign tokens until they are retired; move the database away to start with new keys",
            path.display()
        );
    }
    if checked == Checked::Missing {
        match private_files::create_file(path) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return Err(Error::Config(format!(
                    "cannot create the database {}: {error}",
                    path.display()
                )))
            }
        }
    }
    Ok(())
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Now as RFC 3339 with milliseconds and `Z`, like `2025-02-15T06:23:44.560Z`.
pub fn now_rfc3339() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// Unix seconds as RFC 3339 in UTC with `Z`, like `2025-02-15T06:23:44Z`
/// (how protobuf's JSON mapping writes a `Timestamp` without fractions).
pub fn rfc3339(unix_seconds: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// A new random id with a prefix such as `usr_`.
pub fn new_id(prefix: &str) -> String {
    use rand::Rng as _;
    // The thread's CSPRNG (ChaCha, seeded and reseeded from the OS): ids are
    // unguessable without a system call per character, as `OsRng` made them.
    let suffix: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(22)
        .map(char::from)
        .collect();
    format!("{prefix}{suffix}")
}

/// A duration in whole seconds, as stored.
pub(crate) fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        Migrations::from_slice(MIGRATIONS).validate().unwrap();
    }

    #[test]
    fn ids_have_prefix_and_differ() {
        let a = new_id("usr_");
        assert!(a.starts_with("usr_"));
        assert_eq!(a.len(), 26);
        assert_ne!(a, new_id("usr_"));
    }

    #[test]
    fn timestamp_format() {
        let stamp = now_rfc3339();
        assert_eq!(stamp.len(), 24, "{stamp}");
        assert!(stamp.ends_with('Z'));
    }

    #[test]
    fn timestamps_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_739_600_624), "2025-02-15T06:23:44Z");
    }

    #[tokio::test]
    async fn a_first_version_file_is_migrated_and_keeps_its_rows() {
        // Given a database file made by an emulator with only the first schema
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let mut old = Connection::open(&path).unwrap();
            Migrations::from_slice(&MIGRATIONS[..1])
                .to_latest(&mut old)
                .unwrap();
            old.execute_batch(
                "INSERT INTO users VALUES ('usr_1', 'o@example.com', 1, NULL, NULL, NULL, 'org_1', 'h', 0);
                 INSERT INTO browser_sessions (id, token_hash, user_id, amr, auth_time, created_at,
                   last_seen_at, absolute_expires_at, ended_at)
                 VALUES ('ses_1', 't', 'usr_1', 'conn_email', 10, 10, 20, 99999999999, 30);",
            )
            .unwrap();
        }
        // When today's emulator opens it
        let db = Db::open(&Storage::File(path)).unwrap();
        // Then the old session is there, read as signed out, with no device
        let record = db
            .call(|c| session_record_by_id(c, "ses_1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.session.user_id, "usr_1");
        assert_eq!(record.ended_at, Some(30));
        assert_eq!(record.end, Some(SessionEnd::Logout));
        assert_eq!(record.device, SessionDevice::default());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_file_database_and_its_folder_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        // Given a folder that does not exist yet
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/e.sqlite3");
        // When the database is opened and written to
        let db = Db::open(&Storage::File(path.clone())).unwrap();
        db.call(|c| find_or_create_user_by_email(c, "a@example.com"))
            .await
            .unwrap();
        // Then the folder is 0700, and the database and SQLite's files 0600
        assert_eq!(mode(&dir.path().join("data")), 0o700);
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.path().join(format!("data/e.sqlite3{suffix}"));
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[tokio::test]
    async fn file_database_reopens_with_data() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::File(dir.path().join("e.sqlite3"));
        let db = Db::open(&storage).unwrap();
        let user = db
            .call(|c| find_or_create_user_by_email(c, "a@example.com"))
            .await
            .unwrap();
        drop(db);
        let db = Db::open(&storage).unwrap();
        let again = db
            .call(move |c| user_by_id(c, &user.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.email, "a@example.com");
    }
}
