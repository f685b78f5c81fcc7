//! Reading the passkeys API's answers with the shared wire types
//! (`scalekit_wire`), which read leniently: every field optional, a field of
//! the wrong type reads as absent, unknown fields are ignored.

use scalekit_wire::credential::{Credential, ListCredentialsResponse, UpdateCredentialResponse};
use scalekit_wire::ErrorBody;
use serde_json::Value;

use super::asked::Asked;
use crate::error::{ApiError, FieldViolation};

/// Reads the `credentials` array of a list response; entries that are not objects are skipped.
pub(crate) fn decode_list(body: &Value) -> Option<Vec<Credential>> {
    ListCredentialsResponse::from_value(body).map(ListCredentialsResponse::into_credentials)
}

/// Reads `{"credential": Credential}` of a rename response.
pub(crate) fn decode_single(body: &Value) -> Option<Credential> {
    UpdateCredentialResponse::credential_of(body)
}

/// Is this a grpc-gateway error body (a JSON object with a numeric `code`),
/// as the passkeys API and the broker send, rather than some other server's page?
pub(crate) fn is_error_body(body: &[u8]) -> bool {
    ErrorBody::from_json(body).is_some()
}

/// Parses a grpc-gateway error body; unknown shapes give a generic message.
/// A 404's message names what was `asked` for ([`Asked::not_found`]).
pub(crate) fn decode_error(status: u16, body: &[u8], asked: Asked) -> ApiError {
    let body = ErrorBody::read(body);
    let said = body
        .message
        .as_deref()
        .map(|text| clean(text, 300))
        .filter(|text| !text.trim().is_empty());
    let message = match (status, said) {
        (404, said) => asked.not_found(said.as_deref()),
        (_, Some(said)) => said,
        (_, None) => generic_message(status),
    };
    let field_violations = body
        .field_violations()
        .map(|violation| {
            let text = |value: &Option<String>| value.as_deref().map(|text| clean(text, 300));
            FieldViolation {
                field: text(&violation.field).unwrap_or_default(),
                description: text(&violation.description).unwrap_or_default(),
                constraint: text(&violation.constraint),
            }
        })
        .collect();
    ApiError {
        status,
        code: body.code.map(i64::from),
        message,
        error_code: body.error_code().map(|text| clean(text, 100)),
        field_violations,
    }
}

fn generic_message(status: u16) -> String {
    match status {
        401 => "The passkeys service did not accept your session. Sign in again.".into(),
        403 => "You are not allowed to manage these passkeys.".into(),
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
