//! Wire types of the passkeys API, read leniently: every field optional, a
//! field of the wrong type reads as absent, unknown fields are ignored.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, FieldViolation};

fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(T::deserialize(value).ok())
}

/// `Credential` as sent by the server.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireCredential {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub authenticator: Option<WireAuthenticator>,
    #[serde(default, deserialize_with = "lenient")]
    pub transports: Option<Vec<Value>>,
    #[serde(default, deserialize_with = "lenient")]
    pub authenticator_flags: Option<WireFlags>,
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub user_agent: Option<WireUserAgent>,
    #[serde(default, deserialize_with = "lenient")]
    pub client_info: Option<WireClientInfo>,
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
}

/// `Credential.authenticator`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireAuthenticator {
    #[serde(default, deserialize_with = "lenient")]
    pub aaguid: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub attachment: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub icon_light: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub icon_dark: Option<String>,
}

/// `Credential.authenticator_flags`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireFlags {
    #[serde(default, deserialize_with = "lenient")]
    pub backup_eligible: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub backup_state: Option<bool>,
}

/// `Credential.user_agent`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUserAgent {
    #[serde(default, deserialize_with = "lenient")]
    pub browser: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub browser_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub os: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub os_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub device_type: Option<String>,
}

/// `Credential.client_info`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireClientInfo {
    #[serde(default, deserialize_with = "lenient")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub region: Option<String>,
}

/// Reads the `credentials` array of a list response; entries that are not objects are skipped.
pub(crate) fn decode_list(body: &Value) -> Option<Vec<WireCredential>> {
    let entries = body.get("credentials");
    match entries {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter(|item| item.is_object())
                .filter_map(|item| WireCredential::deserialize(item).ok())
                .collect(),
        ),
        Some(_) => None,
    }
}

/// Reads `{"credential": Credential}` of a rename response.
pub(crate) fn decode_single(body: &Value) -> Option<WireCredential> {
    body.get("credential")
        .filter(|value| value.is_object())
        .and_then(|value| WireCredential::deserialize(value).ok())
}

/// Is this a grpc-gateway error body (a JSON object with a numeric `code`),
/// as the passkeys API and the broker send, rather than some other server's page?
pub(crate) fn is_error_body(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| value.get("code").map(Value::is_i64))
        .unwrap_or(false)
}

/// Parses a grpc-gateway error body; unknown shapes give a generic message.
pub(crate) fn decode_error(status: u16, body: &[u8]) -> ApiError {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = value.get("code").and_then(Value::as_i64);
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .map(|text| clean(text, 300))
        .filter(|text| !text.trim().is_empty())
        .unwrap_or_else(|| generic_message(status));
    let mut error_code = None;
    let mut field_violations = Vec::new();
    for detail in value
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if error_code.is_none() {
            error_code = detail
                .get("error_code")
                .and_then(Value::as_str)
                .map(|text| clean(text, 100));
        }
        let violations = detail
            .get("validation_error_info")
            .and_then(|info| info.get("field_violations"))
            .and_then(Value::as_array);
        for violation in violations.into_iter().flatten() {
            let text = |key: &str| {
                violation
                    .get(key)
                    .and_then(Value::as_str)
                    .map(|text| clean(text, 300))
            };
            field_violations.push(FieldViolation {
                field: text("field").unwrap_or_default(),
                description: text("description").unwrap_or_default(),
                constraint: text("constraint"),
            });
        }
    }
    ApiError {
        status,
        code,
        message,
        error_code,
        field_violations,
    }
}

fn generic_message(status: u16) -> String {
    match status {
        401 => "The passkeys service did not accept your session. Sign in again.".into(),
        403 => "You are not allowed to manage these passkeys.".into(),
        404 => "That passkey no longer exists. The list was out of date.".into(),
        429 => "Too many requests to the passkeys service. Wait a moment and try again.".into(),
        500..=599 => format!("The passkeys service failed (HTTP {status}). Try again later."),
        _ => format!("The passkeys service refused the request (HTTP {status})."),
    }
}

fn clean(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}
