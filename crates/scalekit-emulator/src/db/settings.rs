//! Environment settings that can change at run time (persisted).

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// The settings key for "Auth methods > Passkeys".
pub const PASSKEYS_ENABLED: &str = "passkeys_enabled";

/// A stored setting.
///
/// # Errors
/// Database errors.
pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

/// Stores a setting, replacing any previous value.
///
/// # Errors
/// Database errors.
pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Storage;
    use crate::db::Db;

    #[tokio::test]
    async fn settings_round_trip() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            assert_eq!(setting(c, PASSKEYS_ENABLED)?, None);
            set_setting(c, PASSKEYS_ENABLED, "false")?;
            set_setting(c, PASSKEYS_ENABLED, "true")?;
            assert_eq!(setting(c, PASSKEYS_ENABLED)?.as_deref(), Some("true"));
            Ok(())
        })
        .await
        .unwrap();
    }
}
