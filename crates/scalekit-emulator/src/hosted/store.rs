//! Store functions for the hosted pages' own tables: email challenges (code +
//! magic link) and WebAuthn ceremonies (the mailbox's are in `mailbox`).

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{new_id, now};
use crate::error::{Error, Result};
use crate::secret::sha256_hex;

/// Wrong codes allowed per challenge; the next attempt is refused.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// An email challenge: one code and one magic link, single use between them.
#[derive(Debug, Clone)]
pub struct EmailChallenge {
    /// `ech_…`
    pub id: String,
    /// Where the code was sent.
    pub email: String,
    /// The authorization request the sign-in continues, if any.
    pub auth_request_id: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// Wrong codes so far.
    pub attempts: i64,
    /// Unix seconds when the code or link was used.
    pub used_at: Option<i64>,
}

impl EmailChallenge {
    /// Whether the code or link can still be used (not used, not expired, not locked).
    pub fn is_open(&self) -> bool {
        self.used_at.is_none() && self.expires_at > now() && self.attempts < MAX_CODE_ATTEMPTS
    }
}

/// The stored hash of a challenge's code: salted with the challenge id.
fn code_hash(challenge_id: &str, code: &str) -> String {
    sha256_hex(&format!("{challenge_id}:{code}"))
}

const COLUMNS: &str = "id, email, auth_request_id, expires_at, attempts, used_at";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EmailChallenge> {
    Ok(EmailChallenge {
        id: row.get(0)?,
        email: row.get(1)?,
        auth_request_id: row.get(2)?,
        expires_at: row.get(3)?,
        attempts: row.get(4)?,
        used_at: row.get(5)?,
    })
}

/// Stores a new challenge for `email`; only hashes of `code` and `magic_token`
/// are kept. Earlier open challenges for the address stop working (the newest
/// email is the one that counts).
///
/// # Errors
/// Database errors.
pub fn create_email_challenge(
    conn: &Connection,
    email: &str,
    code: &str,
    magic_token: &str,
    auth_request_id: Option<&str>,
    ttl_secs: i64,
) -> Result<EmailChallenge> {
    let now = now();
    let challenge = EmailChallenge {
        id: new_id("ech_"),
        email: email.to_owned(),
        auth_request_id: auth_request_id.map(str::to_owned),
        expires_at: now + ttl_secs,
        attempts: 0,
        used_at: None,
    };
    conn.execute(
        "UPDATE email_challenges SET used_at = ?2 WHERE email = ?1 COLLATE NOCASE AND used_at IS NULL",
        params![email, now],
    )?;
    conn.execute(
        "INSERT INTO email_challenges (id, email, code_hash, magic_token_hash, auth_request_id, \
         created_at, expires_at, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
        params![
            challenge.id,
            challenge.email,
            code_hash(&challenge.id, code),
            sha256_hex(magic_token),
            challenge.auth_request_id,
            now,
            challenge.expires_at
        ],
    )?;
    Ok(challenge)
}

/// The challenge with this id.
///
/// # Errors
/// Database errors.
pub fn email_challenge_by_id(conn: &Connection, id: &str) -> Result<Option<EmailChallenge>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM email_challenges WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

/// What checking a code gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code: the challenge is now used.
    Accepted {
        /// The verified address.
        email: String,
        /// The authorization request to continue, if any.
        auth_request_id: Option<String>,
    },
    /// Wrong code; this many attempts remain (0: the challenge is now locked).
    Wrong {
        /// Attempts left.
        remaining: i64,
    },
    /// Too many wrong codes before: refused without checking.
    Locked,
    /// Unknown, expired or already used.
    Expired,
}

/// Checks `code` against the challenge, counting wrong attempts. Run it in a
/// transaction.
///
/// # Errors
/// Database errors.
pub fn check_email_code(conn: &Connection, challenge_id: &str, code: &str) -> Result<CodeCheck> {
    let row: Option<(EmailChallenge, Option<String>)> = conn
        .query_row(
            &format!("SELECT {COLUMNS}, code_hash FROM email_challenges WHERE id = ?1"),
            [challenge_id],
            |row| Ok((from_row(row)?, row.get(6)?)),
        )
        .optional()?;
    let Some((challenge, Some(stored))) = row else {
        return Ok(CodeCheck::Expired);
    };
    if challenge.used_at.is_some() || challenge.expires_at <= now() {
        return Ok(CodeCheck::Expired);
    }
    if challenge.attempts >= MAX_CODE_ATTEMPTS {
        return Ok(CodeCheck::Locked);
    }
    if crate::secret::constant_time_eq(&stored, &code_hash(challenge_id, code)) {
        conn.execute(
            "UPDATE email_challenges SET used_at = ?2 WHERE id = ?1",
            params![challenge_id, now()],
        )?;
        return Ok(CodeCheck::Accepted {
            email: challenge.email,
            auth_request_id: challenge.auth_request_id,
        });
    }
    conn.execute(
        "UPDATE email_challenges SET attempts = attempts + 1 WHERE id = ?1",
        [challenge_id],
    )?;
    Ok(CodeCheck::Wrong {
        remaining: MAX_CODE_ATTEMPTS - challenge.attempts - 1,
    })
}

/// The open challenge whose magic link token this is (left unused).
///
/// # Errors
/// Database errors.
pub fn open_magic_challenge(conn: &Connection, token: &str) -> Result<Option<EmailChallenge>> {
    let challenge = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM email_challenges WHERE magic_token_hash = ?1"),
            [sha256_hex(token)],
            from_row,
        )
        .optional()?;
    Ok(challenge.filter(EmailChallenge::is_open))
}

/// Uses a magic link: the open challenge whose link token this is, now marked used.
///
/// # Errors
/// Database errors.
pub fn use_magic_token(conn: &Connection, token: &str) -> Result<Option<EmailChallenge>> {
    let Some(challenge) = open_magic_challenge(conn, token)? else {
        return Ok(None);
    };
    conn.execute(
        "UPDATE email_challenges SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
        params![challenge.id, now()],
    )?;
    Ok(Some(challenge))
}

/// Keeps the server-side state of a WebAuthn ceremony; returns its id (`wcr_…`).
///
/// # Errors
/// Database errors.
pub fn save_ceremony(
    conn: &Connection,
    kind: &str,
    user_id: Option<&str>,
    state_json: &str,
    ttl_secs: i64,
) -> Result<String> {
    let id = new_id("wcr_");
    let now = now();
    conn.execute(
        "DELETE FROM webauthn_ceremonies WHERE expires_at <= ?1",
        [now],
    )?;
    conn.execute(
        "INSERT INTO webauthn_ceremonies (id, kind, user_id, state_json, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, kind, user_id, state_json, now, now + ttl_secs],
    )?;
    Ok(id)
}

/// Takes (deletes and returns) a live ceremony of `kind`: `(user_id, state_json)`.
/// A ceremony is used once, even when it then fails.
///
/// # Errors
/// [`Error::InvalidRequest`] when it is unknown, expired, used or of another kind.
pub fn take_ceremony(conn: &Connection, id: &str, kind: &str) -> Result<(Option<String>, String)> {
    let row: Option<(String, Option<String>, String, i64)> = conn
        .query_row(
            "DELETE FROM webauthn_ceremonies WHERE id = ?1 RETURNING kind, user_id, state_json, expires_at",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    match row {
        Some((found, user_id, state, expires_at)) if found == kind && expires_at > now() => {
            Ok((user_id, state))
        }
        _ => Err(Error::InvalidRequest(
            "This passkey request has expired. Try again.".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Storage;
    use crate::db::Db;

    #[tokio::test]
    async fn codes_count_attempts_and_lock() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            let ch = create_email_challenge(c, "a@example.com", "123456", "magic", None, 600)?;
            for remaining in (0..MAX_CODE_ATTEMPTS).rev() {
                assert_eq!(
                    check_email_code(c, &ch.id, "000000")?,
                    CodeCheck::Wrong { remaining }
                );
            }
            assert_eq!(check_email_code(c, &ch.id, "123456")?, CodeCheck::Locked);
            assert!(
                use_magic_token(c, "magic")?.is_none(),
                "a locked challenge's link is dead too"
            );
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn code_and_link_are_single_use_together() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            let ch =
                create_email_challenge(c, "b@example.com", "654321", "tok", Some("ar_1"), 600)?;
            let accepted = check_email_code(c, &ch.id, "654321")?;
            assert_eq!(
                accepted,
                CodeCheck::Accepted {
                    email: "b@example.com".into(),
                    auth_request_id: Some("ar_1".into())
                }
            );
            assert_eq!(check_email_code(c, &ch.id, "654321")?, CodeCheck::Expired);
            assert!(use_magic_token(c, "tok")?.is_none());

            let expired = create_email_challenge(c, "b@example.com", "111111", "old", None, -1)?;
            assert_eq!(
                check_email_code(c, &expired.id, "111111")?,
                CodeCheck::Expired
            );
            assert!(use_magic_token(c, "old")?.is_none());

            let older = create_email_challenge(c, "b@example.com", "333333", "older", None, 600)?;
            let link = create_email_challenge(c, "B@example.com", "222222", "fresh", None, 600)?;
            assert_eq!(
                check_email_code(c, &older.id, "333333")?,
                CodeCheck::Expired,
                "superseded"
            );
            assert!(use_magic_token(c, "older")?.is_none(), "superseded link");
            assert_eq!(
                use_magic_token(c, "fresh")?.map(|x| x.id),
                Some(link.id.clone())
            );
            assert!(use_magic_token(c, "fresh")?.is_none(), "replayed link");
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn ceremonies_are_single_use_and_typed() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            let id = save_ceremony(c, "registration", Some("usr_1"), "{}", 300)?;
            assert!(take_ceremony(c, &id, "authentication").is_err());
            let id = save_ceremony(c, "registration", Some("usr_1"), "{\"a\":1}", 300)?;
            assert_eq!(
                take_ceremony(c, &id, "registration")?,
                (Some("usr_1".into()), "{\"a\":1}".into())
            );
            assert!(take_ceremony(c, &id, "registration").is_err());
            let old = save_ceremony(c, "authentication", None, "{}", -1)?;
            assert!(take_ceremony(c, &old, "authentication").is_err());
            Ok(())
        })
        .await
        .unwrap();
    }
}
