//! Registered passkeys, with the fields the credentials API shows.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{new_id, now_rfc3339};
use crate::error::{Error, Result};

/// A passkey to store after a successful registration ceremony.
#[derive(Debug, Clone, Default)]
pub struct NewPasskey {
    /// The owner (`usr_…`).
    pub user_id: String,
    /// Standard base64 of the raw credential id.
    pub credential_id: String,
    /// `serde_json` of `webauthn_rs::prelude::Passkey`.
    pub passkey_json: String,
    /// e.g. `none`.
    pub attestation_type: Option<String>,
    /// Lowercase hyphenated AAGUID.
    pub aaguid: Option<String>,
    /// `platform` or `cross-platform`.
    pub attachment: Option<String>,
    /// e.g. `["internal","hybrid"]`.
    pub transports: Vec<String>,
    /// Authenticator flag UP.
    pub user_present: bool,
    /// Authenticator flag UV.
    pub user_verified: bool,
    /// Authenticator flag BE.
    pub backup_eligible: bool,
    /// Authenticator flag BS.
    pub backup_state: bool,
    /// The name shown to the user.
    pub display_name: Option<String>,
    /// The `user_agent` JSON object of the wire format.
    pub user_agent: serde_json::Value,
    /// The `client_info` JSON object of the wire format.
    pub client_info: serde_json::Value,
}

/// A stored passkey.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPasskey {
    /// `wac_…`
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// Standard base64 of the raw credential id.
    pub credential_id: String,
    /// `serde_json` of `webauthn_rs::prelude::Passkey`.
    pub passkey_json: String,
    /// e.g. `none`.
    pub attestation_type: Option<String>,
    /// Lowercase hyphenated AAGUID.
    pub aaguid: Option<String>,
    /// `platform` or `cross-platform`.
    pub attachment: Option<String>,
    /// Transports.
    pub transports: Vec<String>,
    /// Authenticator flag UP.
    pub user_present: bool,
    /// Authenticator flag UV.
    pub user_verified: bool,
    /// Authenticator flag BE.
    pub backup_eligible: bool,
    /// Authenticator flag BS.
    pub backup_state: bool,
    /// The name shown to the user.
    pub display_name: Option<String>,
    /// The `user_agent` object.
    pub user_agent: serde_json::Value,
    /// The `client_info` object.
    pub client_info: serde_json::Value,
    /// RFC 3339 with milliseconds.
    pub created_at: String,
    /// RFC 3339 with milliseconds; changes on rename, not on use.
    pub updated_at: String,
}

const COLUMNS: &str = "id, user_id, credential_id, passkey_json, attestation_type, aaguid, \
    attachment, transports, user_present, user_verified, backup_eligible, backup_state, \
    display_name, user_agent, client_info, created_at, updated_at";

fn json_column(row: &Row<'_>, index: usize) -> rusqlite::Result<serde_json::Value> {
    let text: Option<String> = row.get(index)?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null))
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredPasskey> {
    let transports = match json_column(row, 7)? {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    Ok(StoredPasskey {
        id: row.get(0)?,
        user_id: row.get(1)?,
        credential_id: row.get(2)?,
        passkey_json: row.get(3)?,
        attestation_type: row.get(4)?,
        aaguid: row.get(5)?,
        attachment: row.get(6)?,
        transports,
        user_present: row.get::<_, Option<bool>>(8)?.unwrap_or(false),
        user_verified: row.get::<_, Option<bool>>(9)?.unwrap_or(false),
        backup_eligible: row.get::<_, Option<bool>>(10)?.unwrap_or(false),
        backup_state: row.get::<_, Option<bool>>(11)?.unwrap_or(false),
        display_name: row.get(12)?,
        user_agent: json_column(row, 13)?,
        client_info: json_column(row, 14)?,
        created_at: row.get(15)?,
        updated_at: row.get(16)?,
    })
}

/// Stores a newly registered passkey.
///
/// # Errors
/// [`Error::Conflict`] if the credential id is already registered; database errors.
pub fn insert_passkey(conn: &Connection, new: NewPasskey) -> Result<StoredPasskey> {
    let id = new_id("wac_");
    let stamp = now_rfc3339();
    let transports = serde_json::to_string(&new.transports)
        .map_err(|e| Error::Internal(format!("transports: {e}")))?;
    let result = conn.execute(
        &format!("INSERT INTO passkeys ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)"),
        params![
            id,
            new.user_id,
            new.credential_id,
            new.passkey_json,
            new.attestation_type,
            new.aaguid,
            new.attachment,
            transports,
            new.user_present,
            new.user_verified,
            new.backup_eligible,
            new.backup_state,
            new.display_name,
            new.user_agent.to_string(),
            new.client_info.to_string(),
            stamp
        ],
    );
    match result {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation
                && e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            return Err(Error::Conflict("this passkey is already registered".into()))
        }
        other => other?,
    };
    passkey_by_id(conn, &id)?.ok_or_else(|| Error::Internal("inserted passkey vanished".into()))
}

/// The user's passkeys, oldest first.
///
/// # Errors
/// Database errors.
pub fn passkeys_for_user(conn: &Connection, user_id: &str) -> Result<Vec<StoredPasskey>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE user_id = ?1 ORDER BY created_at, id"
    ))?;
    let rows = statement.query_map([user_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The passkey with this id (`wac_…`).
///
/// # Errors
/// Database errors.
pub fn passkey_by_id(conn: &Connection, id: &str) -> Result<Option<StoredPasskey>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM passkeys WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

/// The passkey with this credential id (standard base64).
///
/// # Errors
/// Database errors.
pub fn passkey_by_credential_id(
    conn: &Connection,
    credential_id: &str,
) -> Result<Option<StoredPasskey>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = ?1"),
            [credential_id],
            from_row,
        )
        .optional()?)
}

/// Replaces the stored `webauthn_rs` passkey after an authentication (the
/// counter and backup state change). `updated_at` is left alone: it is not a
/// last-used time.
///
/// # Errors
/// [`Error::NotFound`] for an unknown id; database errors.
pub fn update_passkey_json(
    conn: &Connection,
    id: &str,
    passkey_json: &str,
    backup_state: bool,
) -> Result<()> {
    let changed = conn.execute(
        "UPDATE passkeys SET passkey_json = ?2, backup_state = ?3 WHERE id = ?1",
        params![id, passkey_json, backup_state],
    )?;
    if changed == 0 {
        return Err(Error::NotFound("passkey not found".into()));
    }
    Ok(())
}

/// Renames a passkey and bumps `updated_at`; `None` if there is no such id.
///
/// # Errors
/// Database errors.
pub fn rename_passkey(
    conn: &Connection,
    id: &str,
    display_name: &str,
) -> Result<Option<StoredPasskey>> {
    let changed = conn.execute(
        "UPDATE passkeys SET display_name = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, display_name, now_rfc3339()],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    passkey_by_id(conn, id)
}

/// Deletes a passkey; `false` if there was no such id.
///
/// # Errors
/// Database errors.
pub fn delete_passkey(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM passkeys WHERE id = ?1", [id])? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Storage;
    use crate::db::{find_or_create_user_by_email, Db};

    #[tokio::test]
    async fn passkey_lifecycle() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            let user = find_or_create_user_by_email(c, "p@example.com")?;
            let new = NewPasskey {
                user_id: user.id.clone(),
                credential_id: "AAEC".into(),
                passkey_json: "{}".into(),
                transports: vec!["internal".into(), "hybrid".into()],
                user_present: true,
                display_name: Some("Laptop".into()),
                user_agent: serde_json::json!({"browser": "Chrome"}),
                ..NewPasskey::default()
            };
            let stored = insert_passkey(c, new.clone())?;
            assert!(stored.id.starts_with("wac_"));
            assert_eq!(stored.transports, ["internal", "hybrid"]);
            assert_eq!(stored.user_agent["browser"], "Chrome");
            assert!(matches!(insert_passkey(c, new), Err(Error::Conflict(_))));
            assert_eq!(passkeys_for_user(c, &user.id)?.len(), 1);
            assert_eq!(passkey_by_credential_id(c, "AAEC")?.unwrap().id, stored.id);
            update_passkey_json(c, &stored.id, "{\"x\":1}", true)?;
            let renamed = rename_passkey(c, &stored.id, "Work laptop")?.unwrap();
            assert_eq!(renamed.display_name.as_deref(), Some("Work laptop"));
            assert!(renamed.backup_state);
            assert!(rename_passkey(c, "wac_missing", "x")?.is_none());
            assert!(delete_passkey(c, &stored.id)?);
            assert!(!delete_passkey(c, &stored.id)?);
            Ok(())
        })
        .await
        .unwrap();
    }
}
