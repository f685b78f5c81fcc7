//! Server-side WebAuthn ceremony state and the two adjustments made to
//! webauthn-rs' passkey defaults.
//!
//! webauthn-rs 0.5 asks for `residentKey: "discouraged"` and
//! `userVerification: "required"` in `start_passkey_registration`, and for
//! required verification in `start_discoverable_authentication`. The hosted
//! pages need discoverable credentials (sign-in without a username), so
//! registration asks for `residentKey: "required"`; and user verification is
//! *preferred*, as on Scalekit's pages. The options sent to the browser and the
//! stored ceremony state are changed together, so the checks webauthn-rs makes
//! when the ceremony finishes match what was asked for; the `credProtect` level
//! follows (see [`CRED_PROTECT`]). webauthn-rs still enforces verification for
//! a credential that was verified at registration.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::store;
use crate::error::{Error, Result};
use crate::state::AppState;

/// How long a started ceremony can be finished.
const CEREMONY_TTL_SECS: i64 = 300;

/// The user-verification policy used for every ceremony.
const USER_VERIFICATION: &str = "preferred";

/// The `credProtect` level that fits preferred verification. webauthn-rs asks
/// for `userVerificationRequired`, which browsers refuse ("inconsistent") next
/// to `userVerification: "preferred"`. Level 2 still keeps a discoverable
/// credential from being listed without verification.
const CRED_PROTECT: &str = "userVerificationOptionalWithCredentialIDList";

/// Sets `value[path]` when that key already exists.
fn set_existing(value: &mut Value, path: &[&str], new: Value) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = value;
    for key in parents {
        match node.get_mut(*key) {
            Some(child) => node = child,
            None => return false,
        }
    }
    match node.get_mut(*last) {
        Some(slot) => {
            *slot = new;
            true
        }
        None => false,
    }
}

/// Registration options as sent to the browser: resident key required, user
/// verification preferred.
pub fn registration_options(options: &impl Serialize) -> Result<Value> {
    let mut value = to_value(options)?;
    let selection = value
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| {
            Error::Internal("registration options without authenticatorSelection".into())
        })?;
    selection.insert("residentKey".into(), Value::from("required"));
    selection.insert("requireResidentKey".into(), Value::from(true));
    selection.insert("userVerification".into(), Value::from(USER_VERIFICATION));
    set_existing(
        &mut value,
        &["publicKey", "extensions", "credentialProtectionPolicy"],
        Value::from(CRED_PROTECT),
    );
    Ok(value)
}

/// Authentication options as sent to the browser: user verification preferred.
pub fn authentication_options(options: &impl Serialize) -> Result<Value> {
    let mut value = to_value(options)?;
    if let Some(public_key) = value.get_mut("publicKey").and_then(Value::as_object_mut) {
        public_key.insert("userVerification".into(), Value::from(USER_VERIFICATION));
    }
    // The browser gets mediation from the page, not from the server.
    if let Some(object) = value.as_object_mut() {
        object.remove("mediation");
    }
    Ok(value)
}

/// Serialises a ceremony state with the same adjustments as the options, and
/// stores it; returns the ceremony id.
///
/// # Errors
/// If the state's shape is not the one expected (a webauthn-rs upgrade), or on
/// database errors.
pub async fn save(
    state: &AppState,
    kind: &'static str,
    user_id: Option<String>,
    ceremony_state: &impl Serialize,
) -> Result<String> {
    let mut value = to_value(ceremony_state)?;
    let adjusted = match kind {
        "registration" => {
            set_existing(
                &mut value,
                &["rs", "policy"],
                Value::from(USER_VERIFICATION),
            ) && set_existing(
                &mut value,
                &["rs", "require_resident_key"],
                Value::from(true),
            )
        }
        _ => set_existing(
            &mut value,
            &["ast", "policy"],
            Value::from(USER_VERIFICATION),
        ),
    };
    if !adjusted {
        return Err(Error::Internal(format!(
            "unexpected {kind} ceremony state shape"
        )));
    }
    let json = value.to_string();
    state
        .db
        .call(move |c| store::save_ceremony(c, kind, user_id.as_deref(), &json, CEREMONY_TTL_SECS))
        .await
}

/// Takes a stored ceremony (single use): `(user_id, state)`.
///
/// # Errors
/// [`Error::InvalidRequest`] when it is unknown, expired or used.
pub async fn take<T: DeserializeOwned>(
    state: &AppState,
    kind: &'static str,
    id: &str,
) -> Result<(Option<String>, T)> {
    let id = id.to_owned();
    let (user_id, json) = state
        .db
        .call(move |c| store::take_ceremony(c, &id, kind))
        .await?;
    let parsed = serde_json::from_str(&json)
        .map_err(|e| Error::Internal(format!("stored {kind} ceremony does not parse: {e}")))?;
    Ok((user_id, parsed))
}

fn to_value(value: &impl Serialize) -> Result<Value> {
    serde_json::to_value(value)
        .map_err(|e| Error::Internal(format!("cannot serialise WebAuthn data: {e}")))
}

/// A webauthn-rs failure, as shown to the user.
pub fn webauthn_error(error: impl std::fmt::Display) -> Error {
    Error::WebAuthn(format!("The passkey could not be verified ({error})."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use webauthn_rs::WebauthnBuilder;

    fn relying_party() -> webauthn_rs::Webauthn {
        let origin = url::Url::parse("http://localhost:8900").unwrap();
        WebauthnBuilder::new("localhost", &origin)
            .unwrap()
            .build()
            .unwrap()
    }

    #[test]
    fn registration_asks_for_resident_keys_and_preferred_verification() {
        let rp = relying_party();
        let (options, registration) = rp
            .start_passkey_registration(
                uuid::Uuid::new_v4(),
                "a@example.com",
                "a@example.com",
                None,
            )
            .unwrap();
        let options = registration_options(&options).unwrap();
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["requireResidentKey"], true);
        assert_eq!(selection["userVerification"], "preferred");
        assert_eq!(
            options["publicKey"]["extensions"]["credentialProtectionPolicy"],
            CRED_PROTECT
        );

        let mut state = to_value(&registration).unwrap();
        assert!(set_existing(
            &mut state,
            &["rs", "policy"],
            Value::from("preferred")
        ));
        assert!(set_existing(
            &mut state,
            &["rs", "require_resident_key"],
            Value::from(true)
        ));
        let back: webauthn_rs::prelude::PasskeyRegistration =
            serde_json::from_value(state).unwrap();
        let again = to_value(&back).unwrap();
        assert_eq!(again["rs"]["policy"], "preferred");
    }

    #[test]
    fn authentication_prefers_verification_and_drops_mediation() {
        let rp = relying_party();
        let (options, authentication) = rp.start_discoverable_authentication().unwrap();
        let options = authentication_options(&options).unwrap();
        assert_eq!(options["publicKey"]["userVerification"], "preferred");
        assert!(options.get("mediation").is_none());
        let mut state = to_value(&authentication).unwrap();
        assert!(set_existing(
            &mut state,
            &["ast", "policy"],
            Value::from("preferred")
        ));
        let _: webauthn_rs::prelude::DiscoverableAuthentication =
            serde_json::from_value(state).unwrap();
    }

    #[test]
    fn missing_paths_are_not_created() {
        let mut value = serde_json::json!({"a": {"b": 1}});
        assert!(!set_existing(&mut value, &["a", "c"], Value::from(2)));
        assert!(!set_existing(&mut value, &["x", "b"], Value::from(2)));
        assert_eq!(value, serde_json::json!({"a": {"b": 1}}));
    }
}
