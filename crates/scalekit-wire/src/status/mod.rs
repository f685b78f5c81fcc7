//! Errors on the wire: the grpc-gateway body (`google.rpc.Status` with
//! Scalekit's `ErrorInfo` detail), the one table between HTTP statuses and
//! gRPC codes, and grpc-gateway's answers to a request no route takes
//! ([`RoutingError`]).

use serde::{Deserialize, Serialize};

use crate::lenient::{self, lenient};

mod code;
mod routing;
#[cfg(test)]
mod tests;

pub use code::GrpcCode;
pub use routing::RoutingError;

/// The `@type` of Scalekit's error detail.
pub const ERROR_INFO_TYPE: &str = "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo";

/// The `error_code` a passkeys broker answers (HTTP 503,
/// `FAILED_PRECONDITION`) when the environment it is configured for cannot
/// work with it: the environment issues opaque (non-JWT) access tokens, has
/// no sessions API, or its discovery document does not match. Not the
/// caller's fault and not a lost session: signing in again cannot help; the
/// message names the broker setting to change.
pub const UNSUPPORTED_ENVIRONMENT: &str = "UNSUPPORTED_ENVIRONMENT";

/// The grpc-gateway error body:
/// `{"code":16,"message":"Token empty","details":[ErrorInfo]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The gRPC status code ([`GrpcCode`]).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<i32>,
    /// What went wrong, for people.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    /// Scalekit's details; entries that are not objects are dropped when reading.
    #[serde(
        default,
        deserialize_with = "lenient::objects",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub details: Option<Vec<ErrorInfo>>,
}

/// `scalekit.v1.errdetails.ErrorInfo`, as an `Any` (with its `@type`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// [`ERROR_INFO_TYPE`].
    #[serde(
        rename = "@type",
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub type_url: Option<String>,
    /// A machine-readable reason, e.g. `UNAUTHENTICATED`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_code: Option<String>,
    /// The request, for support.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_info: Option<RequestInfo>,
    /// The fields that failed validation.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub validation_error_info: Option<ValidationErrorInfo>,
}

/// `scalekit.v1.errdetails.RequestInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestInfo {
    /// The request's id.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
}

/// `scalekit.v1.errdetails.ValidationErrorInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrorInfo {
    /// One entry per rule broken; entries that are not objects are dropped when reading.
    #[serde(
        default,
        deserialize_with = "lenient::objects",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub field_violations: Option<Vec<FieldViolation>>,
}

/// `ValidationErrorInfo.FieldViolation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldViolation {
    /// The field, e.g. `display_name`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub field: Option<String>,
    /// What is wrong with it.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// The rule, e.g. `string.max_len`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub constraint: Option<String>,
}

impl ErrorBody {
    /// A body with `code`, `message` and one [`ErrorInfo`] whose
    /// `error_code` is `error_code`.
    pub fn new(code: GrpcCode, message: impl Into<String>, error_code: impl Into<String>) -> Self {
        Self {
            code: Some(code.code()),
            message: Some(message.into()),
            details: Some(vec![ErrorInfo::new(error_code)]),
        }
    }

    /// Adds `request_info.request_id` to the first detail.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        if let Some(info) = self.first_detail() {
            info.request_info = Some(RequestInfo {
                request_id: Some(request_id.into()),
            });
        }
        self
    }

    /// Adds one field violation to the first detail.
    #[must_use]
    pub fn with_field_violation(mut self, violation: FieldViolation) -> Self {
        if let Some(info) = self.first_detail() {
            info.validation_error_info
                .get_or_insert_with(ValidationErrorInfo::default)
                .field_violations
                .get_or_insert_with(Vec::new)
                .push(violation);
        }
        self
    }

    fn first_detail(&mut self) -> Option<&mut ErrorInfo> {
        self.details.get_or_insert_with(Vec::new).first_mut()
    }

    /// Reads whatever an error body holds: every field that is there and of
    /// the right type; the default when the body is not a JSON object.
    pub fn read(bytes: &[u8]) -> Self {
        lenient::body(bytes).unwrap_or_default()
    }

    /// Reads an error body: `Some` only for a JSON object whose `code` is an
    /// integer, the mark of a grpc-gateway error rather than some other
    /// server's page.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        lenient::body::<Self>(bytes).filter(|body| body.code.is_some())
    }

    /// The first `error_code` among the details.
    pub fn error_code(&self) -> Option<&str> {
        self.details
            .iter()
            .flatten()
            .find_map(|info| info.error_code.as_deref())
    }

    /// Every field violation, across the details.
    pub fn field_violations(&self) -> impl Iterator<Item = &FieldViolation> {
        self.details
            .iter()
            .flatten()
            .filter_map(|info| info.validation_error_info.as_ref())
            .filter_map(|info| info.field_violations.as_ref())
            .flatten()
    }
}

impl ErrorInfo {
    /// An `ErrorInfo` with its `@type` and `error_code`.
    pub fn new(error_code: impl Into<String>) -> Self {
        Self {
            type_url: Some(ERROR_INFO_TYPE.to_owned()),
            error_code: Some(error_code.into()),
            request_info: None,
            validation_error_info: None,
        }
    }
}

impl FieldViolation {
    /// A violation of `constraint` (e.g. `string.max_len`) by `field`.
    pub fn new(
        field: impl Into<String>,
        description: impl Into<String>,
        constraint: Option<String>,
    ) -> Self {
        Self {
            field: Some(field.into()),
            description: Some(description.into()),
            constraint,
        }
    }
}
