//! The `Credential` JSON of the wire reference, built from a stored passkey.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use scalekit_wire::credential::{
    AllAcceptedCredentialsOptions, Authenticator, AuthenticatorFlags, Credential,
    UnknownCredentialOptions,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::db::StoredPasskey;

/// `Some(value)` unless it is empty (grpc-gateway leaves empty strings out).
fn non_empty(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}

/// A stored JSON object as a wire message (only the contract's fields).
fn message<T: DeserializeOwned>(value: &Value) -> Option<T> {
    value
        .is_object()
        .then(|| T::deserialize(value).ok())
        .flatten()
}

/// `WebAuthnCredential` as the REST API returns it (empty values left out,
/// as grpc-gateway does).
pub fn credential(passkey: &StoredPasskey) -> Credential {
    let mut authenticator = Authenticator {
        aaguid: non_empty(passkey.aaguid.as_deref()),
        attachment: non_empty(passkey.attachment.as_deref()),
        ..Authenticator::default()
    };
    if let Some(info) = passkey.aaguid.as_deref().and_then(crate::aaguid::lookup) {
        authenticator.name = non_empty(Some(&info.name));
        authenticator.icon_light = non_empty(info.icon_light.as_deref());
        authenticator.icon_dark = non_empty(info.icon_dark.as_deref());
    } else {
        // Unknown model (e.g. the all-zero AAGUID): a generic name by attachment.
        let name = crate::aaguid::display_name(None, passkey.attachment.as_deref());
        authenticator.name = non_empty(Some(&name));
    }
    Credential {
        id: Some(passkey.id.clone()),
        user_id: Some(passkey.user_id.clone()),
        credential_id: Some(passkey.credential_id.clone()),
        attestation_type: non_empty(passkey.attestation_type.as_deref()),
        authenticator: Some(authenticator),
        transports: Some(passkey.transports.clone()),
        authenticator_flags: Some(AuthenticatorFlags {
            user_present: Some(passkey.user_present),
            user_verified: Some(passkey.user_verified),
            backup_eligible: Some(passkey.backup_eligible),
            backup_state: Some(passkey.backup_state),
        }),
        created_at: Some(passkey.created_at.clone()),
        updated_at: Some(passkey.updated_at.clone()),
        user_agent: message(&passkey.user_agent),
        client_info: message(&passkey.client_info),
        display_name: non_empty(passkey.display_name.as_deref()),
    }
}

/// A credential id as WebAuthn's signal API wants it: base64url without
/// padding (stored ids are standard base64).
pub fn credential_id_base64url(standard: &str) -> String {
    STANDARD
        .decode(standard)
        .map(|raw| URL_SAFE_NO_PAD.encode(raw))
        .unwrap_or_else(|_| standard.to_owned())
}

/// What a removal answers for WebAuthn's `signalUnknownCredential`: the
/// RP id and the removed credential's id (the API's `DeleteCredential` and
/// the hosted page's removal answer the same).
pub fn unknown_credential_options(
    rp_id: &str,
    removed: &StoredPasskey,
) -> UnknownCredentialOptions {
    UnknownCredentialOptions {
        rp_id: Some(rp_id.to_owned()),
        credential_id: Some(credential_id_base64url(&removed.credential_id)),
    }
}

/// What a listing answers for WebAuthn's `signalAllAcceptedCredentials`:
/// the RP id, the user's handle and every credential id they still have.
pub fn all_accepted_credentials_options(
    rp_id: &str,
    user_handle: &uuid::Uuid,
    passkeys: &[StoredPasskey],
) -> AllAcceptedCredentialsOptions {
    AllAcceptedCredentialsOptions {
        rp_id: Some(rp_id.to_owned()),
        user_id: Some(user_handle_base64url(user_handle)),
        all_accepted_credential_ids: Some(
            passkeys
                .iter()
                .map(|p| credential_id_base64url(&p.credential_id))
                .collect(),
        ),
    }
}

/// A WebAuthn user handle (UUID bytes) as base64url.
pub fn user_handle_base64url(handle: &uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(handle.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> StoredPasskey {
        StoredPasskey {
            id: "wac_1".into(),
            user_id: "usr_1".into(),
            credential_id: "+/8=".into(),
            passkey_json: "{}".into(),
            attestation_type: Some("none".into()),
            aaguid: Some("00000000-0000-0000-0000-000000000000".into()),
            attachment: Some("platform".into()),
            transports: vec!["internal".into()],
            user_present: true,
            user_verified: true,
            backup_eligible: false,
            backup_state: false,
            display_name: Some("Laptop".into()),
            user_agent: json!({"raw": "Mozilla/5.0", "browser": "Chrome"}),
            client_info: json!({"ip": "127.0.0.1"}),
            created_at: "2025-02-15T06:23:44.560Z".into(),
            updated_at: "2025-02-15T06:23:44.560Z".into(),
        }
    }

    #[test]
    fn credential_has_the_wire_fields() {
        let value = serde_json::to_value(credential(&stored())).unwrap();
        assert_eq!(value["id"], "wac_1");
        assert_eq!(value["credential_id"], "+/8=");
        assert_eq!(value["authenticator"]["attachment"], "platform");
        assert_eq!(value["authenticator_flags"]["user_verified"], true);
        assert_eq!(value["user_agent"]["browser"], "Chrome");
        assert_eq!(value["client_info"]["ip"], "127.0.0.1");
        assert_eq!(value["display_name"], "Laptop");
        assert!(value.get("last_used_at").is_none());
    }

    #[test]
    fn empty_values_are_left_out() {
        let mut passkey = stored();
        passkey.display_name = None;
        passkey.user_agent = Value::Null;
        let value = serde_json::to_value(credential(&passkey)).unwrap();
        assert!(value.get("display_name").is_none() && value.get("user_agent").is_none());
    }

    #[test]
    fn ids_convert_to_base64url() {
        assert_eq!(credential_id_base64url("+/8="), "-_8");
        assert_eq!(
            user_handle_base64url(&uuid::Uuid::nil()),
            "AAAAAAAAAAAAAAAAAAAAAA"
        );
    }
}
