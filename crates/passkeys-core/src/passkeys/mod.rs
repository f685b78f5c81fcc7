//! The passkeys REST API (`/api/v1/webauthn/credentials`) and its view model.

mod asked;
mod icons;
mod sessions;
mod view;
mod wire;

use reqwest::{Method, StatusCode};
use scalekit_wire::credential::{DeleteCredentialResponse, UpdateCredentialRequest};
use scalekit_wire::{routes, step_up};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// What a request asked for, for `crate::fuzzing`.
pub(crate) use asked::Asked;
pub use icons::{PasskeyList, ProviderIcon};
pub use sessions::SignedInSession;
pub use view::{AuthenticatorInfo, Passkey, RegisteredFrom};
/// The wire decoders, for `crate::fuzzing`.
pub(crate) use wire::{decode_error, decode_list, decode_single};

use crate::error::{Error, Result};
use crate::secret::{AccessToken, IdToken};

/// Longest passkey name, in characters (Scalekit's rule, from the wire contract).
pub use scalekit_wire::DISPLAY_NAME_MAX_CHARS;
/// Longest passkey id accepted from the caller.
const MAX_ID_CHARS: usize = 512;
/// Largest API response read.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Checks and trims a new passkey name ([`scalekit_wire::validate_display_name`]):
/// 1 to 120 characters, no control characters. Markup is kept verbatim (it
/// is shown as text).
///
/// # Errors
/// [`Error::InvalidInput`] saying what is wrong.
pub fn validate_display_name(name: &str) -> Result<String> {
    scalekit_wire::validate_display_name(name)
        .map(str::to_string)
        .map_err(|error| {
            Error::InvalidInput(match error {
                scalekit_wire::Error::DisplayNameTooLong { chars } => format!(
                    "The name is {chars} characters long; use at most {DISPLAY_NAME_MAX_CHARS}."
                ),
                scalekit_wire::Error::DisplayNameControlCharacter => {
                    "The name cannot contain control characters such as line breaks or tabs.".into()
                }
                _ => "Enter a name for the passkey.".into(),
            })
        })
}

fn validate_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id == "."
        || id == ".."
        || id.chars().count() > MAX_ID_CHARS
        || id.chars().any(char::is_control)
    {
        return Err(Error::InvalidInput(
            "That is not a valid passkey id.".into(),
        ));
    }
    Ok(())
}

/// A client for the passkeys broker at one base URL: the passkeys API, and
/// the signed-in user's sessions ([`sessions`]).
#[derive(Debug, Clone)]
pub(crate) struct PasskeysApi {
    http: reqwest::Client,
    base_url: Url,
}

impl PasskeysApi {
    pub(crate) fn new(http: reqwest::Client, base_url: Url) -> PasskeysApi {
        PasskeysApi { http, base_url }
    }

    fn url(&self, id: Option<&str>) -> Result<Url> {
        routes::credentials_url(&self.base_url, id).map_err(not_a_base)
    }

    /// `GET /api/v1/webauthn/credentials?user_id=<sub>`.
    ///
    /// A 404 whose body is not a grpc-gateway error (a server with no such
    /// route) is [`Error::Config`], "The passkeys API was not found at
    /// <url>" ([`answer`]).
    pub(crate) async fn list(&self, token: &AccessToken, user_id: &str) -> Result<Vec<Passkey>> {
        let url = routes::list_credentials_url(&self.base_url, user_id).map_err(not_a_base)?;
        let (status, bytes) = self.exchange(Method::GET, url, token, None).await?;
        let body = answer(status, &bytes, Asked::Passkeys, &self.url(None)?)?;
        let credentials = wire::decode_list(&body).ok_or_else(unexpected_answer)?;
        Ok(credentials
            .into_iter()
            .filter_map(Passkey::from_wire)
            .collect())
    }

    /// `PATCH /api/v1/webauthn/credentials/{id}` with `{"display_name"}`; the name is validated first.
    pub(crate) async fn rename(
        &self,
        token: &AccessToken,
        id: &str,
        name: &str,
    ) -> Result<Passkey> {
        let name = validate_display_name(name)?;
        validate_id(id)?;
        let body = serde_json::to_value(UpdateCredentialRequest {
            display_name: Some(name),
        })
        .map_err(|error| Error::Internal(error.to_string()))?;
        let (status, bytes) = self
            .exchange(Method::PATCH, self.url(Some(id))?, token, Some(body))
            .await?;
        let answer = answer(status, &bytes, Asked::Passkey, &self.url(None)?)?;
        wire::decode_single(&answer)
            .and_then(Passkey::from_wire)
            .ok_or_else(unexpected_answer)
    }

    /// `DELETE /api/v1/webauthn/credentials/{id}`, with the proof of a
    /// recent authentication ([`step_up`](scalekit_wire::step_up)).
    pub(crate) async fn remove(
        &self,
        token: &AccessToken,
        proof: Option<&IdToken>,
        id: &str,
    ) -> Result<()> {
        validate_id(id)?;
        let (status, bytes) = self
            .exchange_with_proof(Method::DELETE, self.url(Some(id))?, token, proof, None)
            .await?;
        let answer = answer(status, &bytes, Asked::Passkey, &self.url(None)?)?;
        let removed = DeleteCredentialResponse::deserialize(&answer).ok();
        if removed.and_then(|answer| answer.success) == Some(false) {
            return Err(Error::Server {
                status: Some(200),
                message: "The passkeys service did not remove the passkey. Try again.".into(),
            });
        }
        Ok(())
    }

    /// Sends one request; the status and the body (at most 4 MiB).
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        token: &AccessToken,
        body: Option<Value>,
    ) -> Result<(StatusCode, Vec<u8>)> {
        self.exchange_with_proof(method, url, token, None, body)
            .await
    }

    /// As [`PasskeysApi::exchange`], with the ID token as the proof of a
    /// recent authentication. The broker's step-up challenge (a 401 with
    /// `error="insufficient_user_authentication"`) is
    /// [`Error::ReauthenticationRequired`].
    async fn exchange_with_proof(
        &self,
        method: Method,
        url: Url,
        token: &AccessToken,
        proof: Option<&IdToken>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Vec<u8>)> {
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(token.secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(proof) = proof {
            request = request.header(step_up::RECENT_AUTHENTICATION_HEADER, proof.secret());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let mut response = request
            .send()
            .await
            .map_err(|err| Error::network("the passkeys service", &err))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = response
                .headers()
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .find_map(step_up::parse_challenge);
            if let Some(max_age_secs) = challenge {
                return Err(Error::ReauthenticationRequired { max_age_secs });
            }
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| Error::network("the passkeys service", &err))?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(unexpected_answer());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, bytes))
    }
}

/// What the app says when the broker answers
/// [`UNSUPPORTED_ENVIRONMENT`](scalekit_wire::status::UNSUPPORTED_ENVIRONMENT).
const BROKER_ENVIRONMENT_UNSUPPORTED: &str = "The passkeys broker (api_url) is set up for a \
    sign-in environment it cannot work with, so signing in again will not help. Its administrator \
    must set the broker's environment_url to your Scalekit environment (the broker's /readyz \
    says what is wrong), or set api_url to a broker for this environment.";

/// The JSON of a successful answer to a request for what was `asked`,
/// else its error: a 404 without the API's own error body (a server with no
/// such route at `route`, the API's collection) is
/// [`Asked::route_not_found`]; a broker that cannot work with its
/// environment is [`Error::Config`] (a configuration error, not a lost
/// session: it must not send the person to sign in again); any other
/// failure [`Error::Api`], whose 404 names what was asked for.
fn answer(status: StatusCode, bytes: &[u8], asked: Asked, route: &Url) -> Result<Value> {
    if status == StatusCode::NOT_FOUND && !wire::is_error_body(bytes) {
        return Err(asked.route_not_found(route));
    }
    if !status.is_success() {
        let error = wire::decode_error(status.as_u16(), bytes, asked);
        if error.error_code.as_deref() == Some(scalekit_wire::status::UNSUPPORTED_ENVIRONMENT) {
            return Err(Error::Config(BROKER_ENVIRONMENT_UNSUPPORTED.into()));
        }
        return Err(Error::Api(Box::new(error)));
    }
    if bytes.is_empty() || status == StatusCode::NO_CONTENT {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(bytes).map_err(|_| unexpected_answer())
}

fn not_a_base(_: scalekit_wire::Error) -> Error {
    Error::Config("The passkeys API URL cannot be a base URL.".into())
}

fn unexpected_answer() -> Error {
    Error::Server {
        status: None,
        message: "The passkeys service sent an answer the app cannot read.".into(),
    }
}

/// Is this the API's "your token is not accepted" answer?
pub(crate) fn is_unauthenticated(error: &Error) -> bool {
    matches!(error, Error::Api(api) if api.status == 401)
}

#[cfg(test)]
mod not_found_tests;
#[cfg(test)]
mod tests;
