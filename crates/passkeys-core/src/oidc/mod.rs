//! OpenID Connect with `openidconnect`: discovery, the authorization request
//! (PKCE S256, state, nonce), code exchange, refresh, ID-token verification
//! (signature via JWKS with one refetch on an unknown `kid`, `iss`, `aud`, `azp`,
//! `exp`, `nonce`, `at_hash`), UserInfo for what the ID token left out,
//! revocation and the end-session URL.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClient, CoreClientAuthMethod, CoreGrantType, CoreIdToken, CoreIdTokenClaims,
    CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
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
use tracing::Instrument as _;
use url::Url;

use crate::clock::Clock;
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
    /// RFC 9207 §3: the provider puts `iss` on every authorization response.
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
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
    /// Token expiry and the ID token's `exp` and `iat` are read from it.
    clock: Arc<dyn Clock>,
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
    /// The verified ID token's `auth_time` (Unix seconds), when it has one.
    pub auth_time: Option<i64>,
}

/// What a code exchange gives: the verified tokens and the account they
/// belong to (checked here, once: an exchange without a verified ID token
/// is a server error).
pub(crate) struct SignedIn {
    /// The tokens.
    pub tokens: Tokens,
    /// Whose they are, from the verified ID token (and userinfo).
    pub account: Account,
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
    /// Fetches `/.well-known/openid-configuration` and the JWKS; times are
    /// read from `clock`.
    pub(crate) async fn discover(
        http: reqwest::Client,
        config: &Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Provider> {
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
            clock,
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
    /// With `step_up` (a maximum authentication age), it asks the person to
    /// authenticate again: `prompt=login` and `max_age` (OIDC Core 3.1.2.1).
    pub(crate) fn authorize(
        &self,
        scopes: &[String],
        redirect_uri: &Url,
        step_up: Option<Duration>,
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
        if let Some(max_age) = step_up {
            request = request
                .add_prompt(CoreAuthPrompt::Login)
                .set_max_age(max_age);
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

    /// Checks the RFC 9207 `iss` of a callback: it must be this issuer when
    /// present, and present when discovery says the provider always sends it
    /// (`authorization_response_iss_parameter_supported`, RFC 9207 §2.4).
    pub(crate) fn check_callback_issuer(&self, issuer: Option<&str>) -> Result<()> {
        let ours = self.metadata.issuer().as_str().trim_end_matches('/');
        match issuer {
            Some(iss) if iss.trim_end_matches('/') != ours => Err(Error::InvalidInput(
                "The sign-in answer came from another issuer; it was ignored.".into(),
            )),
            None if self
                .metadata
                .additional_metadata()
                .authorization_response_iss_parameter_supported =>
            {
                Err(Error::InvalidInput(
                    "The sign-in answer does not name its issuer, although this environment always does; it was ignored. Start the sign-in again.".into(),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Exchanges the code (with the PKCE verifier), verifies the ID token
    /// against the nonce and completes the account from userinfo.
    ///
    /// # Errors
    /// [`Error::Server`] when no ID token came back; token-endpoint, network
    /// and ID-token errors.
    pub(crate) async fn exchange_code(
        &self,
        request: AuthorizationRequest,
        code: AuthorizationCode,
    ) -> Result<SignedIn> {
        let client = self.client()?.set_redirect_uri(request.redirect_uri);
        // Spans (no fields, nothing secret): the benchmark times the parts of a sign-in.
        let response = client
            .exchange_code(code)
            .set_pkce_verifier(request.verifier)
            .request_async(&self.http)
            .instrument(tracing::info_span!("sign_in.token_request"))
            .await
            .map_err(|err| Error::from(token_failure(err, "the sign-in code")))?;
        let mut tokens = self
            .verified_tokens(&response, Some(&request.nonce))
            .instrument(tracing::info_span!("sign_in.id_token_check"))
            .await?;
        let Some(mut account) = tokens.account.take() else {
            return Err(Error::Server {
                status: None,
                message:
                    "The sign-in server returned no ID token. Check that the scopes include openid."
                        .into(),
            });
        };
        self.complete_account(&mut account, &tokens.access_token)
            .instrument(tracing::info_span!("sign_in.userinfo"))
            .await;
        Ok(SignedIn { tokens, account })
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
        let expires_at = self.clock.now_utc() + lifetime;
        let (id_token, account, auth_time) = match response.id_token() {
            Some(id_token) => {
                let claims = self.verify_id_token(id_token, nonce, &access_token).await?;
                let account = account_from_claims(&claims, &self.metadata);
                let auth_time = claims.auth_time().map(|time| time.timestamp());
                (
                    Some(IdToken::new(id_token.to_string())),
                    Some(account),
                    auth_time,
                )
            }
            None => (None, None, None),
        };
        Ok(Tokens {
            access_token,
            refresh_token: response.refresh_token().cloned(),
            id_token,
            expires_at,
            account,
            auth_time,
        })
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

mod logout;
mod token_error;
mod userinfo;
mod verify;

use token_error::token_failure;
use verify::account_from_claims;

#[cfg(test)]
mod tests;
