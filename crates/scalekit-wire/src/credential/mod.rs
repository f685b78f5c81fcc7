//! The credentials API's bodies (`scalekit.v1.auth.webauthn`):
//! `WebAuthnCredential` and the list, update and delete messages.
//!
//! Scalekit's descriptors name the fields; the tests in `tests/fixtures.rs`
//! and `fixtures/check-against-sdk` keep these types and the fixtures to
//! exactly those names.

use serde::{Deserialize, Serialize};

use crate::lenient::{self, lenient};

mod bodies;

pub use bodies::{
    AllAcceptedCredentialsOptions, DeleteCredentialResponse, ListCredentialsResponse,
    UnknownCredentialOptions, UpdateCredentialRequest, UpdateCredentialResponse,
};

/// `WebAuthnCredential`: one registered passkey.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Scalekit's id of the credential (`wac_…`, `cred_…`): opaque.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The owner (`usr_…`).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<String>,
    /// The WebAuthn credential id (protobuf `bytes`: standard base64).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub credential_id: Option<String>,
    /// The attestation format, e.g. `none`, `packed`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub attestation_type: Option<String>,
    /// The authenticator's model.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub authenticator: Option<Authenticator>,
    /// WebAuthn transports (`internal`, `hybrid`, `usb`, …); items that are
    /// not strings are dropped when reading.
    #[serde(
        default,
        deserialize_with = "lenient::strings",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub transports: Option<Vec<String>>,
    /// The authenticator data flags at registration.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub authenticator_flags: Option<AuthenticatorFlags>,
    /// When it was registered (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<String>,
    /// When it last changed, a rename included (RFC 3339): not a last-use time.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<String>,
    /// The browser it was registered from.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_agent: Option<UserAgent>,
    /// Where it was registered from.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_info: Option<ClientInfo>,
    /// The user's name for it (see [`crate::display_name`]).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
}

/// `WebAuthnCredential.Authenticator`: the model, from its AAGUID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticator {
    /// The AAGUID.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub aaguid: Option<String>,
    /// The provider's name, e.g. "iCloud Keychain".
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// `platform` or `cross-platform`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub attachment: Option<String>,
    /// The provider's icon for dark backgrounds (a data URI).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub icon_dark: Option<String>,
    /// The provider's icon for light backgrounds (a data URI).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub icon_light: Option<String>,
}

/// `WebAuthnCredential.AuthenticatorFlags`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorFlags {
    /// UP: the user was present.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_present: Option<bool>,
    /// UV: the user was verified.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_verified: Option<bool>,
    /// BE: the credential may be backed up (synced).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_eligible: Option<bool>,
    /// BS: the credential is backed up.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_state: Option<bool>,
}

/// `WebAuthnCredential.UserAgent`: the browser at registration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAgent {
    /// The `User-Agent` header.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub raw: Option<String>,
    /// The page the registration ran on.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<String>,
    /// Browser name.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub browser: Option<String>,
    /// Browser version.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub browser_version: Option<String>,
    /// Operating system.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub os: Option<String>,
    /// Operating system version.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// `desktop`, `mobile`, …
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_type: Option<String>,
    /// The device model, when known.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_model: Option<String>,
}

/// `WebAuthnCredential.ClientInfo`: where the registration came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The client's IP address.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip: Option<String>,
    /// Region (from the IP address).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<String>,
    /// Region subdivision (from the IP address).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub region_subdivision: Option<String>,
    /// City (from the IP address).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub city: Option<String>,
}
