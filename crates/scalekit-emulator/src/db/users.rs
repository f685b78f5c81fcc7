//! Users.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{new_id, now};
use crate::error::{Error, Result};

/// A user of the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `usr_…`
    pub id: String,
    /// The email address, as first entered.
    pub email: String,
    /// Whether the address was verified (a code or link was used).
    pub email_verified: bool,
    /// Full name, when known.
    pub name: Option<String>,
    /// Given name, when known.
    pub given_name: Option<String>,
    /// Family name, when known.
    pub family_name: Option<String>,
    /// `org_…`: the user's organization.
    pub organization_id: String,
    /// The WebAuthn user handle (a UUID).
    pub webauthn_handle: uuid::Uuid,
    /// Unix seconds.
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, email_verified, name, given_name, family_name, \
                       organization_id, webauthn_handle, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let handle: String = row.get(7)?;
    let webauthn_handle = uuid::Uuid::parse_str(&handle).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        email_verified: row.get(2)?,
        name: row.get(3)?,
        given_name: row.get(4)?,
        family_name: row.get(5)?,
        organization_id: row.get(6)?,
        webauthn_handle,
        created_at: row.get(8)?,
    })
}

/// The user with this email (case-insensitive), created (verified, in a new
/// organization) if there is none.
///
/// # Errors
/// [`Error::InvalidRequest`] for an address without `@`; database errors.
pub fn find_or_create_user_by_email(conn: &Connection, email: &str) -> Result<User> {
    let email = email.trim();
    if email.len() > 320 || !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        return Err(Error::InvalidRequest("enter a valid email address".into()));
    }
    if let Some(user) = user_by_email(conn, email)? {
        return Ok(user);
    }
    let user = User {
        id: new_id("usr_"),
        email: email.to_owned(),
        email_verified: true,
        name: None,
        given_name: None,
        family_name: None,
        organization_id: new_id("org_"),
        webauthn_handle: uuid::Uuid::new_v4(),
        created_at: now(),
    };
    conn.execute(
        &format!("INSERT INTO users ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        params![
            user.id,
            user.email,
            user.email_verified,
            user.name,
            user.given_name,
            user.family_name,
            user.organization_id,
            user.webauthn_handle.to_string(),
            user.created_at
        ],
    )?;
    Ok(user)
}

/// The user with this email (case-insensitive).
///
/// # Errors
/// Database errors.
pub fn user_by_email(conn: &Connection, email: &str) -> Result<Option<User>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM users WHERE email = ?1"),
            [email.trim()],
            from_row,
        )
        .optional()?)
}

/// The user with this id.
///
/// # Errors
/// Database errors.
pub fn user_by_id(conn: &Connection, id: &str) -> Result<Option<User>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

/// The user with this WebAuthn user handle.
///
/// # Errors
/// Database errors.
pub fn user_by_webauthn_handle(conn: &Connection, handle: &uuid::Uuid) -> Result<Option<User>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM users WHERE webauthn_handle = ?1"),
            [handle.to_string()],
            from_row,
        )
        .optional()?)
}

/// Sets the user's names (each `None` clears it).
///
/// # Errors
/// [`Error::NotFound`] for an unknown user; database errors.
pub fn update_user_names(
    conn: &Connection,
    user_id: &str,
    name: Option<&str>,
    given_name: Option<&str>,
    family_name: Option<&str>,
) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE users SET name = ?2, given_name = ?3, family_name = ?4 WHERE id = ?1",
        )?
        .execute(params![user_id, name, given_name, family_name])?;
    if changed == 0 {
        return Err(Error::NotFound("user not found".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Storage;
    use crate::db::Db;

    #[tokio::test]
    async fn find_or_create_is_case_insensitive_and_idempotent() {
        let db = Db::open(&Storage::InMemory).unwrap();
        let (a, b, c) = db
            .call(|c| {
                let a = find_or_create_user_by_email(c, "Ann@Example.com")?;
                let b = find_or_create_user_by_email(c, " ann@example.COM ")?;
                let handle = a.webauthn_handle;
                let c = user_by_webauthn_handle(c, &handle)?;
                Ok((a, b, c))
            })
            .await
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(c, Some(a.clone()));
        assert!(a.id.starts_with("usr_") && a.organization_id.starts_with("org_"));
    }

    #[tokio::test]
    async fn bad_emails_and_names() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            assert!(find_or_create_user_by_email(c, "no-at-sign").is_err());
            assert!(find_or_create_user_by_email(c, "@x").is_err());
            let user = find_or_create_user_by_email(c, "b@example.com")?;
            update_user_names(c, &user.id, Some("Bo Li"), Some("Bo"), Some("Li"))?;
            assert_eq!(
                user_by_id(c, &user.id)?.unwrap().given_name.as_deref(),
                Some("Bo")
            );
            assert!(update_user_names(c, "usr_missing", None, None, None).is_err());
            Ok(())
        })
        .await
        .unwrap();
    }
}
