//! The list, update and delete messages around [`Credential`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Credential;
use crate::lenient::{self, lenient};

/// `ListCredentialsResponse`, the answer to
/// `GET /api/v1/webauthn/credentials?user_id=`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCredentialsResponse {
    /// The user's credentials; entries that are not objects, or not
    /// credentials, are dropped when reading.
    #[serde(
        default,
        deserialize_with = "lenient::objects",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub credentials: Option<Vec<Credential>>,
    /// For WebAuthn's signal API.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub all_accepted_credentials_options: Option<AllAcceptedCredentialsOptions>,
}

/// `AllAcceptedCredentialsOptions`: the arguments of WebAuthn's
/// `signalAllAcceptedCredentials`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllAcceptedCredentialsOptions {
    /// The relying party id.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub rp_id: Option<String>,
    /// The WebAuthn user handle (base64url).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<String>,
    /// The credential ids still accepted (base64url).
    #[serde(
        default,
        deserialize_with = "lenient::strings",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub all_accepted_credential_ids: Option<Vec<String>>,
}

/// `UpdateCredentialRequest`'s body, sent with
/// `PATCH /api/v1/webauthn/credentials/{credential_id}` (the id travels in
/// the path).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCredentialRequest {
    /// The new name (see [`crate::display_name`]).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
}

/// `UpdateCredentialResponse`: the renamed credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCredentialResponse {
    /// The credential as stored after the rename.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub credential: Option<Credential>,
}

/// `DeleteCredentialResponse`, the answer to
/// `DELETE /api/v1/webauthn/credentials/{credential_id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteCredentialResponse {
    /// Whether the credential was removed.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub success: Option<bool>,
    /// For WebAuthn's `signalUnknownCredential`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub unknown_credential_options: Option<UnknownCredentialOptions>,
}

/// `UnknownCredentialOptions`: the arguments of WebAuthn's
/// `signalUnknownCredential`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownCredentialOptions {
    /// The relying party id.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub rp_id: Option<String>,
    /// The removed credential's id (base64url).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub credential_id: Option<String>,
}

impl ListCredentialsResponse {
    /// Reads a list body; `None` when it is not a JSON object or its
    /// `credentials` is present but not an array (absent or `null` reads as
    /// an empty list).
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|value| Self::from_value(&value))
    }

    /// [`ListCredentialsResponse::from_json`] for an already parsed body.
    pub fn from_value(value: &Value) -> Option<Self> {
        match value.get("credentials") {
            None | Some(Value::Null | Value::Array(_)) => lenient::object(value.clone()),
            Some(_) => None,
        }
    }

    /// The credentials (none when absent).
    pub fn into_credentials(self) -> Vec<Credential> {
        self.credentials.unwrap_or_default()
    }
}

impl UpdateCredentialResponse {
    /// The credential of a rename answer; `None` when `credential` is not an object.
    pub fn credential_of(value: &Value) -> Option<Credential> {
        value.get("credential").cloned().and_then(lenient::object)
    }
}

impl UpdateCredentialRequest {
    /// Reads a rename body; `None` when it is not a JSON object.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        lenient::body(bytes)
    }
}
