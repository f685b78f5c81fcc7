//! ID-token verification: signature (JWKS, one refetch on an unknown `kid`),
//! `iss`, `aud`, `azp`, `exp`, `nonce`, `at_hash`.

use super::*;

impl Provider {
    /// Verifies signature, `iss`, `aud`, `azp`, `exp`, `nonce` and `at_hash`; refetches the
    /// JWKS once when the key id is unknown.
    pub(crate) async fn verify_id_token(
        &self,
        id_token: &CoreIdToken,
        nonce: Option<&Nonce>,
        access_token: &AccessToken,
    ) -> Result<CoreIdTokenClaims> {
        match self.verify_with_current_keys(id_token, nonce, access_token) {
            Err(VerifyFailure::UnknownKey) => {
                let jwks = fetch_jwks(&self.http, &self.metadata).await?;
                match self.jwks.write() {
                    Ok(mut slot) => *slot = jwks,
                    Err(poisoned) => *poisoned.into_inner() = jwks,
                }
                self.verify_with_current_keys(id_token, nonce, access_token)
                    .map_err(VerifyFailure::into_error)
            }
            other => other.map_err(VerifyFailure::into_error),
        }
    }

    fn verify_with_current_keys(
        &self,
        id_token: &CoreIdToken,
        nonce: Option<&Nonce>,
        access_token: &AccessToken,
    ) -> std::result::Result<CoreIdTokenClaims, VerifyFailure> {
        let clock = &self.clock;
        let verifier: CoreIdTokenVerifier = IdTokenVerifier::new_public_client(
            self.client_id.clone(),
            self.metadata.issuer().clone(),
            self.current_jwks(),
        )
        // `exp` is checked against the core's clock, not the system's.
        .set_time_fn(move || chrono_time(clock.now_utc()))
        .set_issue_time_verifier_fn(move |issued_at| {
            // openidconnect accepts any `iat` by default; refuse one from the future.
            let latest = clock.now_utc().unix_timestamp() + MAX_IAT_SKEW_SECONDS;
            if issued_at.timestamp() > latest {
                Err("it was issued in the future".to_string())
            } else {
                Ok(())
            }
        });
        let verified = match nonce {
            Some(nonce) => id_token.claims(&verifier, nonce),
            None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
        };
        let claims = verified.map_err(|err| match err {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => VerifyFailure::UnknownKey,
            other => VerifyFailure::Invalid(other.to_string()),
        })?;
        check_authorized_party(claims.authorized_party(), &self.client_id)?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|err| VerifyFailure::Invalid(err.to_string()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|err| VerifyFailure::Invalid(err.to_string()))?;
            let actual = AccessTokenHash::from_token(access_token, alg, key)
                .map_err(|err| VerifyFailure::Invalid(err.to_string()))?;
            if actual != *expected {
                return Err(VerifyFailure::Invalid(
                    "at_hash does not match the access token".into(),
                ));
            }
        }
        Ok(claims.clone())
    }
}

/// `now` as `openidconnect` takes it; a time it cannot hold is taken as the
/// latest there is, so that every token reads as expired rather than valid.
fn chrono_time(now: OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(now.unix_timestamp(), now.nanosecond())
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

/// OIDC Core 3.1.3.7 step 5: an `azp`, when present, must be this client.
/// `openidconnect` 4 leaves this to the caller (its check is commented out);
/// without it a token whose `aud` lists us but which was issued to another
/// client (`azp`) would sign this app in.
fn check_authorized_party(
    azp: Option<&ClientId>,
    client_id: &ClientId,
) -> std::result::Result<(), VerifyFailure> {
    match azp {
        Some(azp) if azp.as_str() != client_id.as_str() => Err(VerifyFailure::Invalid(
            "it was issued to another client (azp)".into(),
        )),
        _ => Ok(()),
    }
}

enum VerifyFailure {
    UnknownKey,
    Invalid(String),
}

impl VerifyFailure {
    fn into_error(self) -> Error {
        let reason = match self {
            VerifyFailure::UnknownKey => "it is signed with an unknown key".to_string(),
            VerifyFailure::Invalid(reason) => reason,
        };
        Error::Server {
            status: None,
            message: format!("The sign-in server's ID token could not be verified ({reason}). Try again; if it persists, check the environment URL and client id."),
        }
    }
}

pub(super) fn account_from_claims(claims: &CoreIdTokenClaims, metadata: &Metadata) -> Account {
    let name = claims
        .name()
        .and_then(|name| name.get(None))
        .map(|name| name.as_str().to_string())
        .or_else(|| {
            let given = claims.given_name().and_then(|n| n.get(None));
            let family = claims.family_name().and_then(|n| n.get(None));
            match (given, family) {
                (Some(g), Some(f)) => Some(format!("{} {}", g.as_str(), f.as_str())),
                (Some(g), None) => Some(g.as_str().to_string()),
                (None, Some(f)) => Some(f.as_str().to_string()),
                (None, None) => None,
            }
        });
    Account {
        subject: claims.subject().as_str().to_string(),
        name,
        email: claims.email().map(|email| email.as_str().to_string()),
        environment: metadata.issuer().as_str().to_string(),
    }
}
