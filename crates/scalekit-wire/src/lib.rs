//! Scalekit's wire contract, in one place: what a Scalekit environment (and
//! the local emulator) sends and accepts on the passkeys and sessions REST
//! APIs, and the rules both sides of that wire share.
//!
//! - [`credential`]: `WebAuthnCredential` and the list, update and delete
//!   bodies of `scalekit.v1.auth.webauthn`.
//! - [`session`]: `SessionDetails`, `UserSessionDetails` and the revoke
//!   answers of `scalekit.v1.sessions`.
//! - [`status`]: the grpc-gateway error body and the one HTTP status ↔ gRPC
//!   code table.
//! - [`display_name`]: [`DISPLAY_NAME_MAX_CHARS`] and its validators.
//! - [`routes`]: the REST paths and the URL builders.
//! - [`hosts`]: which `Host` header a local server answers.
//! - [`step_up`]: the proof of a recent authentication a destructive call
//!   carries, and the RFC 9470 challenge that asks for one.
//! - [`secret_newtype!`]: the one idiom for secret values.
//! - [`fixtures`]: JSON bodies every side of the wire is tested against
//!   (and which `fixtures/check-against-sdk` parses with Scalekit's own
//!   message types).
//!
//! Every type serialises with the protobuf field names and leaves absent
//! values and empty lists out (what grpc-gateway writes with
//! `EmitUnpopulated` off), and deserialises leniently: every field is
//! optional (an absent list and `[]` both read as no items), a field of the
//! wrong type reads as absent and unknown fields are ignored, so a server
//! that adds or changes a field does not break a reader.
//!
//! This crate knows no HTTP framework and no HTTP client.
//!
//! ```
//! use scalekit_wire::credential::ListCredentialsResponse;
//!
//! let list = ListCredentialsResponse::from_json(scalekit_wire::fixtures::CREDENTIAL_LIST.as_bytes())
//!     .expect("a list body");
//! assert_eq!(list.into_credentials().len(), 3);
//! let url = scalekit_wire::routes::credentials_url(
//!     &"https://acme.scalekit.dev".parse().expect("a URL"),
//!     Some("wac_1/2"),
//! )
//! .expect("a base URL");
//! assert_eq!(url.as_str(), "https://acme.scalekit.dev/api/v1/webauthn/credentials/wac_1%2F2");
//! ```

pub mod credential;
pub mod display_name;
mod error;
pub mod fixtures;
pub mod hosts;
mod lenient;
mod omit;
pub mod routes;
mod secret;
pub mod session;
pub mod status;
pub mod step_up;

pub use display_name::{
    check_display_name_length, is_generic_authenticator_name, validate_display_name,
    DISPLAY_NAME_MAX_CHARS, GENERIC_PASSKEY_NAME, GENERIC_SECURITY_KEY_NAME,
};
pub use error::{Error, Result};
pub use status::{ErrorBody, GrpcCode};

/// What [`secret_newtype!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}
