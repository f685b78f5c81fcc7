//! Adding a passkey from `/ui/profile/passkeys`: the two JSON endpoints of
//! the registration ceremony, and what is stored about the new credential
//! (AAGUID and flags from the authenticator data, transports and attachment
//! from the browser, the parsed `User-Agent`, the client address).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::Json as AxumJson;
use axum_extra::extract::cookie::CookieJar;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::ceremony::{self, webauthn_error};
use super::forms::{Json, JsonError};
use super::passkey_login::require_passkeys;
use super::profile::signed_in;
use crate::db::{self, NewPasskey};
use crate::error::Error;
use crate::state::AppState;
use crate::{aaguid, user_agent};

const KIND: &str = "registration";
const TRANSPORTS: [&str; 6] = ["usb", "nfc", "ble", "smart-card", "hybrid", "internal"];

/// `POST /ui/profile/passkeys/register/start` → `{"ceremony", "options"}` for
/// `navigator.credentials.create` (existing credentials excluded).
pub async fn start(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<AxumJson<Value>, JsonError> {
    let (_, user) = signed_in(&state, &jar, &headers).await?;
    require_passkeys(&state)?;
    let user_id = user.id.clone();
    let existing = state
        .db
        .call(move |c| db::passkeys_for_user(c, &user_id))
        .await?;
    let exclude = existing
        .iter()
        .filter_map(|p| {
            base64::engine::general_purpose::STANDARD
                .decode(&p.credential_id)
                .ok()
        })
        .map(Into::into)
        .collect::<Vec<_>>();
    let display = user.name.clone().unwrap_or_else(|| user.email.clone());
    let (options, registration) = state
        .webauthn
        .start_passkey_registration(user.webauthn_handle, &user.email, &display, Some(exclude))
        .map_err(webauthn_error)?;
    let options = ceremony::registration_options(&options)?;
    let id = ceremony::save(&state, KIND, Some(user.id), &registration).await?;
    Ok(AxumJson(json!({"ceremony": id, "options": options})))
}

/// Body of `POST /ui/profile/passkeys/register/finish`.
#[derive(Debug, Deserialize)]
pub struct FinishBody {
    ceremony: String,
    credential: Value,
}

/// `POST /ui/profile/passkeys/register/finish` → `{"passkey": {"id", "display_name"}}`.
pub async fn finish(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    jar: CookieJar,
    headers: HeaderMap,
    Json(body): Json<FinishBody>,
) -> Result<AxumJson<Value>, JsonError> {
    let (_, user) = signed_in(&state, &jar, &headers).await?;
    require_passkeys(&state)?;
    let (owner, registration): (_, PasskeyRegistration) =
        ceremony::take(&state, KIND, &body.ceremony).await?;
    if owner.as_deref() != Some(user.id.as_str()) {
        return Err(
            Error::Forbidden("This passkey request belongs to another session.".into()).into(),
        );
    }
    let credential: RegisterPublicKeyCredential = serde_json::from_value(body.credential.clone())
        .map_err(|e| {
        Error::InvalidRequest(format!("The passkey response is malformed: {e}"))
    })?;
    let passkey = state
        .webauthn
        .finish_passkey_registration(&credential, &registration)
        .map_err(webauthn_error)?;
    let facts = AttestationFacts::parse(credential.response.attestation_object.as_ref())?;

    let attachment = body.credential["authenticatorAttachment"]
        .as_str()
        .filter(|a| matches!(*a, "platform" | "cross-platform"))
        .map(str::to_owned);
    let mut transports: Vec<String> = body.credential["response"]["transports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|t| TRANSPORTS.contains(t))
        .map(str::to_owned)
        .collect();
    transports.dedup();
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let new = NewPasskey {
        user_id: user.id.clone(),
        credential_id: base64::engine::general_purpose::STANDARD.encode(passkey.cred_id().as_ref()),
        passkey_json: serde_json::to_string(&passkey)
            .map_err(|e| Error::Internal(format!("cannot serialise passkey: {e}")))?,
        attestation_type: Some(facts.attestation_type.clone()),
        display_name: Some(aaguid::display_name(
            Some(&facts.aaguid),
            attachment.as_deref(),
        )),
        aaguid: Some(facts.aaguid),
        attachment,
        transports,
        user_present: facts.user_present,
        user_verified: facts.user_verified,
        backup_eligible: facts.backup_eligible,
        backup_state: facts.backup_state,
        user_agent: serde_json::to_value(user_agent::parse(agent))
            .map_err(|e| Error::Internal(format!("cannot serialise user agent: {e}")))?,
        client_info: client_info(peer),
    };
    let stored = state.db.call(move |c| db::insert_passkey(c, new)).await?;
    Ok(AxumJson(
        json!({"passkey": {"id": stored.id, "display_name": stored.display_name}}),
    ))
}

/// The TCP peer of the request, when the server records it.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

/// `client_info` for a request from `peer`: no geolocation offline.
fn client_info(peer: Option<SocketAddr>) -> Value {
    let Some(peer) = peer else {
        return json!({"ip": "", "region": "", "region_subdivision": "", "city": ""});
    };
    let ip = peer.ip().to_canonical();
    let local = ip.is_loopback();
    json!({
        "ip": ip.to_string(),
        "region": if local { "Local" } else { "" },
        "region_subdivision": "",
        "city": if local { "Local" } else { "" },
    })
}

/// What the attestation object says about the new credential.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AttestationFacts {
    aaguid: String,
    attestation_type: String,
    user_present: bool,
    user_verified: bool,
    backup_eligible: bool,
    backup_state: bool,
}

impl AttestationFacts {
    /// Reads `fmt`, `attStmt` and `authData` (flags at byte 32, AAGUID at 37..53).
    fn parse(attestation_object: &[u8]) -> Result<Self, Error> {
        use serde_cbor_2::Value as Cbor;
        let malformed = || Error::InvalidRequest("The passkey's attestation is malformed.".into());
        let Ok(Cbor::Map(map)) = serde_cbor_2::from_slice::<Cbor>(attestation_object) else {
            return Err(malformed());
        };
        let field = |name: &str| map.get(&Cbor::Text(name.to_owned()));
        let Some(Cbor::Bytes(auth_data)) = field("authData") else {
            return Err(malformed());
        };
        let fmt = match field("fmt") {
            Some(Cbor::Text(fmt)) => fmt.as_str(),
            _ => return Err(malformed()),
        };
        let has_x5c = matches!(field("attStmt"), Some(Cbor::Map(s)) if s.contains_key(&Cbor::Text("x5c".into())));
        let flags = *auth_data.get(32).ok_or_else(malformed)?;
        let aaguid_bytes: [u8; 16] = auth_data
            .get(37..53)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(malformed)?;
        let attestation_type = match fmt {
            "none" => "none",
            _ if has_x5c => "basic",
            _ => "self",
        };
        Ok(Self {
            aaguid: uuid::Uuid::from_bytes(aaguid_bytes)
                .hyphenated()
                .to_string(),
            attestation_type: attestation_type.to_owned(),
            user_present: flags & 0x01 != 0,
            user_verified: flags & 0x04 != 0,
            backup_eligible: flags & 0x08 != 0,
            backup_state: flags & 0x10 != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_cbor_2::Value as Cbor;
    use std::collections::BTreeMap;

    fn attestation(
        fmt: &str,
        flags: u8,
        aaguid: [u8; 16],
        statement: BTreeMap<Cbor, Cbor>,
    ) -> Vec<u8> {
        let mut auth_data = vec![0u8; 32];
        auth_data.push(flags);
        auth_data.extend_from_slice(&[0, 0, 0, 1]);
        auth_data.extend_from_slice(&aaguid);
        auth_data.extend_from_slice(&[0, 2, 0xAB, 0xCD]);
        let mut map = BTreeMap::new();
        map.insert(Cbor::Text("fmt".into()), Cbor::Text(fmt.into()));
        map.insert(Cbor::Text("attStmt".into()), Cbor::Map(statement));
        map.insert(Cbor::Text("authData".into()), Cbor::Bytes(auth_data));
        serde_cbor_2::to_vec(&Cbor::Map(map)).unwrap()
    }

    #[test]
    fn reads_flags_aaguid_and_type() {
        let google = uuid::Uuid::parse_str("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").unwrap();
        let facts = AttestationFacts::parse(&attestation(
            "none",
            0x5D,
            *google.as_bytes(),
            BTreeMap::new(),
        ))
        .unwrap();
        assert_eq!(
            facts,
            AttestationFacts {
                aaguid: google.to_string(),
                attestation_type: "none".into(),
                user_present: true,
                user_verified: true,
                backup_eligible: true,
                backup_state: true,
            }
        );
        let mut statement = BTreeMap::new();
        statement.insert(Cbor::Text("x5c".into()), Cbor::Array(vec![]));
        let packed =
            AttestationFacts::parse(&attestation("packed", 0x41, [0; 16], statement)).unwrap();
        assert_eq!(packed.attestation_type, "basic");
        assert_eq!(packed.aaguid, aaguid::ZERO_AAGUID);
        assert!(packed.user_present && !packed.user_verified && !packed.backup_eligible);
        let own = AttestationFacts::parse(&attestation("packed", 0x45, [0; 16], BTreeMap::new()))
            .unwrap();
        assert_eq!(own.attestation_type, "self");
    }

    #[test]
    fn malformed_attestations_are_refused() {
        assert!(AttestationFacts::parse(b"").is_err());
        assert!(
            AttestationFacts::parse(&serde_cbor_2::to_vec(&Cbor::Text("x".into())).unwrap())
                .is_err()
        );
        let mut short = BTreeMap::new();
        short.insert(Cbor::Text("fmt".into()), Cbor::Text("none".into()));
        short.insert(Cbor::Text("authData".into()), Cbor::Bytes(vec![0; 40]));
        assert!(
            AttestationFacts::parse(&serde_cbor_2::to_vec(&Cbor::Map(short)).unwrap()).is_err()
        );
    }

    #[test]
    fn client_info_for_loopback_and_remote() {
        let local = client_info(Some("[::ffff:127.0.0.1]:5000".parse().unwrap()));
        assert_eq!(local["ip"], "127.0.0.1");
        assert_eq!(local["city"], "Local");
        let remote = client_info(Some("203.0.113.9:443".parse().unwrap()));
        assert_eq!(remote["ip"], "203.0.113.9");
        assert_eq!(remote["region"], "");
        assert_eq!(remote["region_subdivision"], "");
        assert_eq!(client_info(None)["ip"], "");
    }
}
