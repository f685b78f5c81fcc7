//! The `Credential` JSON of the wire reference, built from a stored passkey.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::db::StoredPasskey;

fn put(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

/// `Credential` as the REST API returns it (empty values left out, as
/// grpc-gateway does).
pub fn credential_json(passkey: &StoredPasskey) -> Value {
    let mut authenticator = Map::new();
    put(&mut authenticator, "aaguid", passkey.aaguid.as_deref());
    if let Some(info) = passkey.aaguid.as_deref().and_then(crate::aaguid::lookup) {
        put(&mut authenticator, "name", Some(&info.name));
        put(&mut authenticator, "icon_light", info.icon_light.as_deref());
        put(&mut authenticator, "icon_dark", info.icon_dark.as_deref());
    } else {
        // Unknown model (e.g. the all-zero AAGUID): a generic name by attachment.
        let name = crate::aaguid::display_name(None, passkey.attachment.as_deref());
        put(&mut authenticator, "name", Some(&name));
    }
    put(
        &mut authenticator,
        "attachment",
        passkey.attachment.as_deref(),
    );

    let mut credential = Map::new();
    credential.insert("id".into(), json!(passkey.id));
    credential.insert("user_id".into(), json!(passkey.user_id));
    credential.insert("credential_id".into(), json!(passkey.credential_id));
    put(
        &mut credential,
        "attestation_type",
        passkey.attestation_type.as_deref(),
    );
    credential.insert("authenticator".into(), Value::Object(authenticator));
    credential.insert("transports".into(), json!(passkey.transports));
    credential.insert(
        "authenticator_flags".into(),
        json!({
            "user_present": passkey.user_present,
            "user_verified": passkey.user_verified,
            "backup_eligible": passkey.backup_eligible,
            "backup_state": passkey.backup_state,
        }),
    );
    credential.insert("created_at".into(), json!(passkey.created_at));
    credential.insert("updated_at".into(), json!(passkey.updated_at));
    for (key, value) in [
        ("user_agent", &passkey.user_agent),
        ("client_info", &passkey.client_info),
    ] {
        if value.is_object() {
            credential.insert(key.into(), value.clone());
        }
    }
    put(
        &mut credential,
        "display_name",
        passkey.display_name.as_deref(),
    );
    Value::Object(credential)
}

/// A credential id as WebAuthn's signal API wants it: base64url without
/// padding (stored ids are standard base64).
pub fn credential_id_base64url(standard: &str) -> String {
    STANDARD
        .decode(standard)
        .map(|raw| URL_SAFE_NO_PAD.encode(raw))
        .unwrap_or_else(|_| standard.to_owned())
}

/// A WebAuthn user handle (UUID bytes) as base64url.
pub fn user_handle_base64url(handle: &uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(handle.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let value = credential_json(&stored());
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
        let value = credential_json(&passkey);
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
