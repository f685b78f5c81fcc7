//! What grpc-gateway answers when no route takes a request: its
//! `DefaultRoutingErrorHandler` (`runtime/errors.go`) turns the HTTP status
//! its `ServeMux` chose into a gRPC status whose message is Go's
//! `http.StatusText`, and `DefaultHTTPErrorHandler` writes that status with
//! the HTTP status of its code. The request never reaches a service, so the
//! body has no `ErrorInfo` detail.

use super::{ErrorBody, GrpcCode};

/// A request no route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoutingError {
    /// No route has this path: `NOT_FOUND`, "Not Found", HTTP 404.
    NotFound,
    /// A route has this path but not this method: `UNIMPLEMENTED`,
    /// "Method Not Allowed", HTTP 501 (grpc-gateway's status for
    /// `UNIMPLEMENTED`; it does not keep the 405 its mux chose).
    MethodNotAllowed,
}

impl RoutingError {
    /// The gRPC code of the answer; its HTTP status is the code's
    /// ([`GrpcCode::http_status`]).
    pub fn code(self) -> GrpcCode {
        match self {
            Self::NotFound => GrpcCode::NotFound,
            Self::MethodNotAllowed => GrpcCode::Unimplemented,
        }
    }

    /// The message: Go's `http.StatusText` of the HTTP status the mux chose
    /// (404, 405).
    pub fn message(self) -> &'static str {
        match self {
            Self::NotFound => "Not Found",
            Self::MethodNotAllowed => "Method Not Allowed",
        }
    }

    /// The body: `{"code":5,"message":"Not Found"}`,
    /// `{"code":12,"message":"Method Not Allowed"}`.
    pub fn body(self) -> ErrorBody {
        ErrorBody {
            code: Some(self.code().code()),
            message: Some(self.message().to_owned()),
            details: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_gateways_routing_answers() {
        let cases = [
            (
                RoutingError::NotFound,
                404,
                r#"{"code":5,"message":"Not Found"}"#,
            ),
            (
                RoutingError::MethodNotAllowed,
                501,
                r#"{"code":12,"message":"Method Not Allowed"}"#,
            ),
        ];
        for (error, status, json) in cases {
            assert_eq!(error.code().http_status(), status, "{error:?}");
            assert_eq!(serde_json::to_string(&error.body()).unwrap(), json);
            assert_eq!(ErrorBody::from_json(json.as_bytes()), Some(error.body()));
        }
    }
}
