//! OpenID Connect with `openidconnect`: discovery, the authorization request
//! (PKCE S256, state, nonce), code exchange, refresh, ID-token verification
//! (signature via JWKS with one refetch on an unknown `kid`, `iss`, `aud`,
//! `exp`, `nonce`, `at_hash`), revocation and the end-session URL.

use std::sync::RwLock;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGrantType, CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
    CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AdditionalProviderMetadata, AuthUrl, ClaimsVerificationError, ClientId,
    EndpointNotSet, EndpointSet, IdTokenVerifier, JsonWebKeySet, OAuth2TokenResponse,
    PkceCodeChallenge, ProviderMetadata, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use crate::config::{is_loopback_host, Config};
use crate::error::{Error, Result};
use crate::secret::{
    AccessToken, AuthorizationCode, CsrfToken, IdToken, Nonce, PkceCodeVerifier, RefreshToken,
};
use crate::vault::Account;

/// Bound on revocation (best effort at sign-out).
const REVOKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Clock difference tolerated on an ID token's `iat`.
const MAX_IAT_SKEW_SECONDS: i64 = 300;

/// Extra discovery fields `openidconnect`'s core metadata leaves out.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct ExtraMetadata {
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
>;

/// The discovered provider of one environment.
pub(crate) struct Provider {
    http: reqwest::Client,
    client_id: ClientId,
    metadata: Metadata,
    jwks: RwLock<CoreJsonWebKeySet>,
}

/// An authorization request in flight: consumed by the code exchange.
pub(crate) struct AuthorizationRequest {
    pub url: Url,
    pub state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    redirect_uri: RedirectUrl,
}

/// Tokens from the token endpoint, verified.
pub(crate) struct Tokens {
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    pub id_token: Option<IdToken>,
    pub expires_at: OffsetDateTime,
    /// From the verified ID token, when one came back.
    pub account: Option<Account>,
}

/// How a token request failed.
pub(crate) enum TokenFailure {
    /// The grant was refused (`invalid_grant` and the like): the code or refresh token is dead.
    Rejected(String),
    /// Anything else (network, server, verification).
    Other(Error),
}

impl From<TokenFailure> for Error {
    fn from(failure: TokenFailure) -> Self {
        match failure {
            TokenFailure::Rejected(message) => Error::Server {
                status: Some(400),
                message,
            },
            TokenFailure::Other(error) => error,
        }
    }
}

impl Provider {
    /// Fetches `/.well-known/openid-configuration` and the JWKS.
    pub(crate) async fn discover(http: reqwest::Client, config: &Config) -> Result<Provider> {
        let issuer = config.environment_url.as_str().trim_end_matches('/');
        let discovery_url = format!("{issuer}/.well-known/openid-configuration");
        let response = http
            .get(&discovery_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| Error::network("the sign-in server", &err))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Server {
                status: Some(status.as_u16()),
                message: format!(
                    "The environment at {issuer} did not return its OpenID configuration (HTTP {status}). Check the environment URL."
                ),
            });
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|err| Error::network("the sign-in server", &err))?;
        let metadata: Metadata = serde_json::from_slice(&bytes).map_err(|err| Error::Server {
            status: Some(status.as_u16()),
            message: format!("The environment's OpenID configuration is not valid: {err}."),
        })?;
        if metadata.issuer().as_str().trim_end_matches('/') != issuer {
            return Err(Error::Server {
                status: None,
                message: format!(
                    "The environment says its issuer is {}, not {issuer}. Check the environment URL.",
                    metadata.issuer().as_str()
                ),
            });
        }
        for endpoint in [
            metadata.authorization_endpoint().url(),
            metadata.jwks_uri().url(),
        ]
        .into_iter()
        .chain(metadata.token_endpoint().map(|url| url.url()))
        {
            check_endpoint(endpoint)?;
        }
        let jwks = fetch_jwks(&http, &metadata).await?;
        Ok(Provider {
            http,
            client_id: ClientId::new(config.client_id.clone()),
            metadata,
            jwks: RwLock::new(jwks),
        })
    }

    fn client(&self) -> Result<OidcClient> {
        let token_url = self
            .metadata
            .token_endpoint()
            .cloned()
            .ok_or_else(|| Error::Server {
                status: None,
                message: "The environment's OpenID configuration has no token endpoint.".into(),
            })?;
        Ok(CoreClient::new(
            self.client_id.clone(),
            self.metadata.issuer().clone(),
            self.current_jwks(),
        )
        .set_auth_uri(AuthUrl::from_url(
            self.metadata.authorization_endpoint().url().clone(),
        ))
        .set_token_uri(TokenUrl::from_url(token_url.url().clone())))
    }

    fn current_jwks(&self) -> CoreJsonWebKeySet {
        match self.jwks.read() {
            Ok(jwks) => jwks.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Builds the authorization URL with PKCE S256, a random state and nonce.
    pub(crate) fn authorize(
        &self,
        scopes: &[String],
        redirect_uri: &Url,
    ) -> Result<AuthorizationRequest> {
        let redirect_uri = RedirectUrl::from_url(redirect_uri.clone());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client()?.set_redirect_uri(redirect_uri.clone());
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in scopes.iter().filter(|scope| scope.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(AuthorizationRequest {
            url,
            state,
            nonce,
            verifier,
            redirect_uri,
        })
    }

    /// Checks the RFC 9207 `iss` of a callback, when it came.
    pub(crate) fn check_callback_issuer(&self, issuer: Option<&str>) -> Result<()> {
        match issuer {
            Some(iss)
                if iss.trim_end_matches('/')
                    != self.metadata.issuer().as_str().trim_end_matches('/') =>
            {
                Err(Error::InvalidInput(
                    "The sign-in answer came from another issuer; it was ignored.".into(),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID token against the nonce.
    pub(crate) async fn exchange_code(
        &self,
        request: AuthorizationRequest,
        code: AuthorizationCode,
    ) -> Result<Tokens> {
        let client = self.client()?.set_redirect_uri(request.redirect_uri);
        let response = client
            .exchange_code(code)
            .set_pkce_verifier(request.verifier)
            .request_async(&self.http)
            .await
            .map_err(|err| Error::from(token_failure(err, "the sign-in code")))?;
        let tokens = self
            .verified_tokens(&response, Some(&request.nonce))
            .await?;
        if tokens.account.is_none() {
            return Err(Error::Server {
                status: None,
                message:
                    "The sign-in server returned no ID token. Check that the scopes include openid."
                        .into(),
            });
        }
        Ok(tokens)
    }

    /// Redeems a refresh token (which rotates).
    pub(crate) async fn refresh(
        &self,
        refresh_token: &RefreshToken,
    ) -> std::result::Result<Tokens, TokenFailure> {
        let client = self.client().map_err(TokenFailure::Other)?;
        let response = client
            .exchange_refresh_token(refresh_token)
            .request_async(&self.http)
            .await
            .map_err(|err| token_failure(err, "the saved session"))?;
        self.verified_tokens(&response, None)
            .await
            .map_err(TokenFailure::Other)
    }

    async fn verified_tokens(
        &self,
        response: &CoreTokenResponse,
        nonce: Option<&Nonce>,
    ) -> Result<Tokens> {
        let access_token = response.access_token().clone();
        let lifetime = response
            .expires_in()
            .unwrap_or(Duration::from_secs(300))
            .min(Duration::from_secs(60 * 60 * 24 * 365));
        let expires_at = OffsetDateTime::now_utc() + lifetime;
        let (id_token, account) = match response.id_token() {
            Some(id_token) => {
                let claims = self.verify_id_token(id_token, nonce, &access_token).await?;
                let account = account_from_claims(&claims, &self.metadata);
                (Some(IdToken::new(id_token.to_string())), Some(account))
            }
            None => (None, None),
        };
        Ok(Tokens {
            access_token,
            refresh_token: response.refresh_token().cloned(),
            id_token,
            expires_at,
            account,
        })
    }

    /// Verifies signature, `iss`, `aud`, `exp`, `nonce` and `at_hash`; refetches the JWKS
    /// once when the key id is unknown.
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
        let verifier: CoreIdTokenVerifier = IdTokenVerifier::new_public_client(
            self.client_id.clone(),
            self.metadata.issuer().clone(),
            self.current_jwks(),
        )
        .set_issue_time_verifier_fn(|issued_at| {
            // openidconnect accepts any `iat` by default; refuse one from the future.
            let latest = OffsetDateTime::now_utc().unix_timestamp() + MAX_IAT_SKEW_SECONDS;
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

    /// Revokes a refresh token (RFC 7009), best effort with a short timeout.
    pub(crate) async fn revoke(&self, refresh_token: &RefreshToken) -> Result<()> {
        let Some(endpoint) = self
            .metadata
            .additional_metadata()
            .revocation_endpoint
            .as_deref()
        else {
            return Ok(());
        };
        let endpoint = Url::parse(endpoint).map_err(|err| Error::Server {
            status: None,
            message: format!("The revocation endpoint is not a valid URL: {err}."),
        })?;
        check_endpoint(&endpoint)?;
        let response = self
            .http
            .post(endpoint)
            .timeout(REVOKE_TIMEOUT)
            .form(&[
                ("token", refresh_token.secret().as_str()),
                ("token_type_hint", "refresh_token"),
                ("client_id", self.client_id.as_str()),
            ])
            .send()
            .await
            .map_err(|err| Error::network("the sign-in server", &err))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Error::Server {
                status: Some(response.status().as_u16()),
                message: format!("Revoking the session failed (HTTP {}).", response.status()),
            })
        }
    }

    /// The end-session URL (`end_session_endpoint`, else `<issuer>/oidc/logout`).
    pub(crate) fn end_session_url(
        &self,
        id_token: Option<&IdToken>,
        post_logout_redirect_uri: Option<&Url>,
    ) -> Result<Url> {
        let issuer = self.metadata.issuer().as_str().trim_end_matches('/');
        let endpoint = self
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
            .unwrap_or_else(|| format!("{issuer}/oidc/logout"));
        let mut url = Url::parse(&endpoint).map_err(|err| Error::Server {
            status: None,
            message: format!("The end-session endpoint is not a valid URL: {err}."),
        })?;
        check_endpoint(&url)?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(id_token) = id_token {
                query.append_pair("id_token_hint", id_token.secret());
            }
            if let Some(uri) = post_logout_redirect_uri {
                query.append_pair("post_logout_redirect_uri", uri.as_str());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
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

fn check_endpoint(url: &Url) -> Result<()> {
    if url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(url)) {
        Ok(())
    } else {
        Err(Error::Server {
            status: None,
            message: format!(
                "The environment advertises an endpoint that is not https: {}.",
                url.origin().ascii_serialization()
            ),
        })
    }
}

async fn fetch_jwks(http: &reqwest::Client, metadata: &Metadata) -> Result<CoreJsonWebKeySet> {
    JsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
        .await
        .map_err(|err| Error::Server {
            status: None,
            message: format!("Could not fetch the environment's signing keys: {err}."),
        })
}

fn account_from_claims(claims: &CoreIdTokenClaims, metadata: &Metadata) -> Account {
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

type TokenRequestError = RequestTokenError<
    openidconnect::HttpClientError<reqwest::Error>,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
>;

fn token_failure(err: TokenRequestError, what: &str) -> TokenFailure {
    match err {
        RequestTokenError::ServerResponse(response) => {
            let code = response.error().as_ref().to_string();
            let description = response
                .error_description()
                .map(|text| format!(": {}", text.chars().take(200).collect::<String>()))
                .unwrap_or_default();
            let message = format!("The sign-in server refused {what} ({code}{description}).");
            match code.as_str() {
                "invalid_grant" | "invalid_client" | "unauthorized_client" => {
                    TokenFailure::Rejected(message)
                }
                _ => TokenFailure::Other(Error::Server {
                    status: None,
                    message,
                }),
            }
        }
        RequestTokenError::Request(openidconnect::HttpClientError::Reqwest(err)) => {
            TokenFailure::Other(Error::network("the sign-in server", &err))
        }
        RequestTokenError::Request(other) => TokenFailure::Other(Error::Network(format!(
            "Could not reach the sign-in server: {other}."
        ))),
        RequestTokenError::Parse(_, _) => TokenFailure::Other(Error::Server {
            status: None,
            message: "The sign-in server's token answer could not be read.".into(),
        }),
        RequestTokenError::Other(text) => TokenFailure::Other(Error::Server {
            status: None,
            message: format!("The sign-in server's token answer was unexpected: {text}."),
        }),
    }
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
