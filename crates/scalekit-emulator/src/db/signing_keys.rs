//! Stored RSA signing keys (PKCS#8 PEM).

use rusqlite::{params, Connection};

use super::now;
use crate::error::{Error, Result};

/// A signing key row.
#[derive(Clone)]
pub struct StoredSigningKey {
    /// The JWK `kid`.
    pub kid: String,
    /// PKCS#8 PEM of the private key.
    pub private_key_pem: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Whether new tokens are signed with it.
    pub active: bool,
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("private_key_pem", &"[redacted]")
            .field("active", &self.active)
            .finish()
    }
}

/// Keys that still verify (not retired), newest first.
///
/// # Errors
/// Database errors.
pub fn live_signing_keys(conn: &Connection) -> Result<Vec<StoredSigningKey>> {
    let mut statement = conn.prepare(
        "SELECT kid, private_key_pem, created_at, active FROM signing_keys \
         WHERE retired_at IS NULL ORDER BY created_at DESC, rowid DESC",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(StoredSigningKey {
            kid: row.get(0)?,
            private_key_pem: row.get(1)?,
            created_at: row.get(2)?,
            active: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Stores a new key and makes it the only active one (older keys keep
/// verifying). Runs in a transaction.
///
/// # Errors
/// Database errors.
pub fn insert_active_signing_key(
    conn: &mut Connection,
    kid: &str,
    private_key_pem: &str,
) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute("UPDATE signing_keys SET active = 0 WHERE active = 1", [])?;
    tx.execute(
        "INSERT INTO signing_keys (kid, private_key_pem, created_at, retired_at, active) \
         VALUES (?1, ?2, ?3, NULL, 1)",
        params![kid, private_key_pem, now()],
    )?;
    tx.commit()?;
    Ok(())
}

/// Retires a key: tokens it signed stop verifying.
///
/// # Errors
/// [`Error::InvalidRequest`] for the active key, [`Error::NotFound`] for an
/// unknown or already retired one.
pub fn retire_signing_key(conn: &Connection, kid: &str) -> Result<()> {
    let active: Option<bool> = conn
        .query_row(
            "SELECT active FROM signing_keys WHERE kid = ?1 AND retired_at IS NULL",
            [kid],
            |row| row.get(0),
        )
        .ok();
    match active {
        None => Err(Error::NotFound(format!("no live signing key {kid}"))),
        Some(true) => Err(Error::InvalidRequest(
            "rotate before retiring the active key".into(),
        )),
        Some(false) => {
            conn.execute(
                "UPDATE signing_keys SET retired_at = ?2 WHERE kid = ?1",
                params![kid, now()],
            )?;
            Ok(())
        }
    }
}
