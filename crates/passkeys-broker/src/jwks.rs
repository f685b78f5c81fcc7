//! The environment's signing keys, from the `jwks_uri` of its discovery
//! document ([`crate::discovery`]): fetched once, cached, fetched again when
//! they are older than the configured maximum age (so a retired key stops
//! verifying) and when a token names an unknown `kid` (at most once per
//! configured interval, so forged `kid`s cannot make the broker hammer the
//! environment). If a refetch fails, the keys already held stay in use.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::discovery::Discovery;
use crate::error::{Error, Result};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm};
use jsonwebtoken::DecodingKey;

/// One fetched key set.
#[derive(Clone)]
struct KeySet {
    keys: Arc<HashMap<String, DecodingKey>>,
    fetched_at: Instant,
}

/// How often the cache may and must go back to the environment.
#[derive(Debug, Clone, Copy)]
pub struct RefetchPolicy {
    /// An unknown `kid` triggers a fetch at most this often.
    pub min_interval: Duration,
    /// Keys older than this are fetched again before use.
    pub max_age: Duration,
}

/// Cached RS256 verification keys by `kid`.
pub struct KeyCache {
    http: reqwest::Client,
    discovery: Arc<Discovery>,
    timeout: Duration,
    policy: RefetchPolicy,
    clock: Arc<dyn Clock>,
    current: RwLock<Option<KeySet>>,
    /// Serialises fetches; holds the time of the last attempt.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

/// What a lookup found.
pub enum Lookup {
    /// The key for the `kid`.
    Found(DecodingKey),
    /// The environment does not publish this `kid` (or asked too recently).
    Unknown,
}

impl KeyCache {
    /// An empty cache for the JWKS `discovery` names.
    pub(crate) fn new(
        http: reqwest::Client,
        discovery: Arc<Discovery>,
        timeout: Duration,
        policy: RefetchPolicy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            http,
            discovery,
            timeout,
            policy,
            clock,
            current: RwLock::new(None),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether keys have been fetched at least once.
    pub fn is_loaded(&self) -> bool {
        self.cached().is_some()
    }

    /// Fetches the keys when none are cached yet.
    ///
    /// # Errors
    /// Upstream errors when the JWKS cannot be fetched or read.
    pub async fn ensure_loaded(&self) -> Result<()> {
        if self.is_loaded() {
            return Ok(());
        }
        let mut last_fetch = self.last_fetch.lock().await;
        if self.is_loaded() {
            return Ok(());
        }
        *last_fetch = Some(self.clock.now());
        self.fetch().await
    }

    /// The key for `kid`. Fetches the JWKS first when the cached keys are
    /// too old, or when `kid` is unknown and the last fetch is old enough.
    ///
    /// # Errors
    /// Upstream errors when a fetch is needed, fails, and the keys already
    /// held (if any) do not have `kid`.
    pub async fn key(&self, kid: &str) -> Result<Lookup> {
        if let Some(key) = self.fresh_key(kid, self.clock.now()) {
            return Ok(Lookup::Found(key));
        }
        let mut last_fetch = self.last_fetch.lock().await;
        let now = self.clock.now();
        // Another request may have fetched while this one waited.
        if let Some(key) = self.fresh_key(kid, now) {
            return Ok(Lookup::Found(key));
        }
        let held = self.cached();
        let recent = last_fetch
            .is_some_and(|at| now.saturating_duration_since(at) < self.policy.min_interval);
        if recent {
            if let Some(set) = &held {
                // Fresh keys without this kid, or a fetch that just failed:
                // answer from what is held rather than ask again.
                return Ok(lookup(set, kid));
            }
        }
        *last_fetch = Some(now);
        match self.fetch().await {
            Ok(()) => Ok(self
                .cached()
                .map_or(Lookup::Unknown, |set| lookup(&set, kid))),
            Err(error) => match held.as_ref().map(|set| lookup(set, kid)) {
                Some(found @ Lookup::Found(_)) => {
                    tracing::warn!(%error, "cannot refresh the signing keys; using the ones held");
                    Ok(found)
                }
                _ => Err(error),
            },
        }
    }

    fn is_fresh(&self, set: &KeySet, now: Instant) -> bool {
        now.saturating_duration_since(set.fetched_at) < self.policy.max_age
    }

    fn cached(&self) -> Option<KeySet> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn fresh_key(&self, kid: &str, now: Instant) -> Option<DecodingKey> {
        self.cached()
            .filter(|set| self.is_fresh(set, now))
            .and_then(|set| set.keys.get(kid).cloned())
    }

    async fn fetch(&self) -> Result<()> {
        let url = self.discovery.endpoints().await?.jwks_uri.clone();
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| crate::http::send_error("fetching the JWKS", &e, self.timeout))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::UpstreamBadResponse(format!(
                "the JWKS answered {status}"
            )));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|_| Error::UpstreamBadResponse("the JWKS is not JSON".into()))?;
        let keys = parse_jwks(&body)?;
        tracing::info!(keys = keys.len(), "fetched the environment's signing keys");
        let set = KeySet {
            keys: Arc::new(keys),
            fetched_at: self.clock.now(),
        };
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(set);
        Ok(())
    }
}

fn lookup(set: &KeySet, kid: &str) -> Lookup {
    set.keys
        .get(kid)
        .cloned()
        .map_or(Lookup::Unknown, Lookup::Found)
}

/// Reads the RS256 signature keys of a JWKS, skipping any key it cannot use.
///
/// # Errors
/// [`Error::UpstreamBadResponse`] when there is no `keys` array.
pub(crate) fn parse_jwks(body: &serde_json::Value) -> Result<HashMap<String, DecodingKey>> {
    let entries = body
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| Error::UpstreamBadResponse("the JWKS has no keys array".into()))?;
    let mut keys = HashMap::new();
    for entry in entries {
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            continue;
        };
        let usable_alg = matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256));
        let is_rsa = matches!(jwk.algorithm, AlgorithmParameters::RSA(_));
        let not_for_encryption = !matches!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        );
        let (Some(kid), true) = (
            jwk.common.key_id.clone(),
            usable_alg && is_rsa && not_for_encryption,
        ) else {
            continue;
        };
        if let Ok(key) = DecodingKey::from_jwk(&jwk) {
            keys.insert(kid, key);
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 512-bit test modulus is enough to parse; nothing is verified here.
    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    #[test]
    fn keeps_only_rs256_signing_keys_with_a_kid() {
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "good", "n": N, "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "kid": "no-alg", "n": N, "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "alg": "RS256", "n": N, "e": "AQAB"},
            {"kty": "RSA", "use": "enc", "alg": "RS256", "kid": "enc", "n": N, "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "alg": "RS512", "kid": "rs512", "n": N, "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "weird"}
        ]});
        let keys = parse_jwks(&body).unwrap();
        let mut kids: Vec<_> = keys.keys().cloned().collect();
        kids.sort();
        assert_eq!(kids, ["good", "no-alg"]);
    }

    #[test]
    fn jwks_without_keys_is_a_bad_response() {
        let err = parse_jwks(&serde_json::json!({"nope": []})).unwrap_err();
        assert!(matches!(err, Error::UpstreamBadResponse(_)));
    }
}
