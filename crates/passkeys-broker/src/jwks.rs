//! The environment's signing keys: fetched once, cached, and fetched again
//! when a token names an unknown `kid` (at most once per configured interval,
//! so forged `kid`s cannot make the broker hammer the environment).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm};
use jsonwebtoken::DecodingKey;
use url::Url;

use crate::clock::Clock;
use crate::error::{Error, Result};

/// Cached RS256 verification keys by `kid`.
pub struct KeyCache {
    http: reqwest::Client,
    url: Url,
    timeout: Duration,
    min_refetch_interval: Duration,
    clock: Arc<dyn Clock>,
    keys: RwLock<Option<Arc<HashMap<String, DecodingKey>>>>,
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
    /// An empty cache for the JWKS at `url`.
    pub fn new(
        http: reqwest::Client,
        url: Url,
        timeout: Duration,
        min_refetch_interval: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            http,
            url,
            timeout,
            min_refetch_interval,
            clock,
            keys: RwLock::new(None),
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

    /// The key for `kid`, fetching the JWKS again if it is unknown and the
    /// last fetch is old enough.
    ///
    /// # Errors
    /// Upstream errors when a needed fetch fails.
    pub async fn key(&self, kid: &str) -> Result<Lookup> {
        if let Some(key) = self.cached_key(kid) {
            return Ok(Lookup::Found(key));
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.cached_key(kid) {
            return Ok(Lookup::Found(key));
        }
        let now = self.clock.now();
        let recent = last_fetch
            .is_some_and(|at| now.saturating_duration_since(at) < self.min_refetch_interval);
        if recent && self.is_loaded() {
            return Ok(Lookup::Unknown);
        }
        *last_fetch = Some(now);
        self.fetch().await?;
        Ok(self.cached_key(kid).map_or(Lookup::Unknown, Lookup::Found))
    }

    fn cached(&self) -> Option<Arc<HashMap<String, DecodingKey>>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn cached_key(&self, kid: &str) -> Option<DecodingKey> {
        self.cached().and_then(|keys| keys.get(kid).cloned())
    }

    async fn fetch(&self) -> Result<()> {
        let response = self
            .http
            .get(self.url.clone())
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
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(keys));
        Ok(())
    }
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
