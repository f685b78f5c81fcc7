//! The gRPC status codes and the one table between them and HTTP statuses.

/// A gRPC status code, as the `code` of an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrpcCode {
    /// 0: not an error.
    Ok,
    /// 1: the caller cancelled.
    Cancelled,
    /// 2: an error with no better code.
    Unknown,
    /// 3: the request is malformed, whatever the state of the system.
    InvalidArgument,
    /// 4: the deadline passed before the operation completed.
    DeadlineExceeded,
    /// 5: nothing with that id.
    NotFound,
    /// 6: it exists already.
    AlreadyExists,
    /// 7: authenticated, but not allowed.
    PermissionDenied,
    /// 8: a quota or rate limit is used up.
    ResourceExhausted,
    /// 9: the system is not in a state that allows the operation.
    FailedPrecondition,
    /// 10: aborted, for example by a concurrent change.
    Aborted,
    /// 11: past the valid range.
    OutOfRange,
    /// 12: not implemented.
    Unimplemented,
    /// 13: a server bug or broken invariant.
    Internal,
    /// 14: the service is unavailable for now; retry.
    Unavailable,
    /// 15: data was lost.
    DataLoss,
    /// 16: no valid credentials.
    Unauthenticated,
}

/// Every code with its number, name and the HTTP status grpc-gateway
/// answers it with (`runtime.HTTPStatusFromCode`).
const TABLE: [(GrpcCode, i32, &str, u16); 17] = [
    (GrpcCode::Ok, 0, "OK", 200),
    (GrpcCode::Cancelled, 1, "CANCELLED", 499),
    (GrpcCode::Unknown, 2, "UNKNOWN", 500),
    (GrpcCode::InvalidArgument, 3, "INVALID_ARGUMENT", 400),
    (GrpcCode::DeadlineExceeded, 4, "DEADLINE_EXCEEDED", 504),
    (GrpcCode::NotFound, 5, "NOT_FOUND", 404),
    (GrpcCode::AlreadyExists, 6, "ALREADY_EXISTS", 409),
    (GrpcCode::PermissionDenied, 7, "PERMISSION_DENIED", 403),
    (GrpcCode::ResourceExhausted, 8, "RESOURCE_EXHAUSTED", 429),
    (GrpcCode::FailedPrecondition, 9, "FAILED_PRECONDITION", 400),
    (GrpcCode::Aborted, 10, "ABORTED", 409),
    (GrpcCode::OutOfRange, 11, "OUT_OF_RANGE", 400),
    (GrpcCode::Unimplemented, 12, "UNIMPLEMENTED", 501),
    (GrpcCode::Internal, 13, "INTERNAL", 500),
    (GrpcCode::Unavailable, 14, "UNAVAILABLE", 503),
    (GrpcCode::DataLoss, 15, "DATA_LOSS", 500),
    (GrpcCode::Unauthenticated, 16, "UNAUTHENTICATED", 401),
];

impl GrpcCode {
    fn row(self) -> (GrpcCode, i32, &'static str, u16) {
        TABLE.into_iter().find(|row| row.0 == self).unwrap_or((
            GrpcCode::Unknown,
            2,
            "UNKNOWN",
            500,
        ))
    }

    /// The number sent as an error body's `code`.
    pub fn code(self) -> i32 {
        self.row().1
    }

    /// The canonical name, e.g. `NOT_FOUND` (also the `error_code` the
    /// servers here put in `ErrorInfo` when they have no finer reason).
    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The HTTP status grpc-gateway answers this code with.
    pub fn http_status(self) -> u16 {
        self.row().3
    }

    /// The code for a number, `None` for numbers gRPC does not define.
    pub fn from_code(code: i32) -> Option<GrpcCode> {
        TABLE.into_iter().find(|row| row.1 == code).map(|row| row.0)
    }

    /// The code an error answered with HTTP `status` carries: the one table
    /// the emulator answers with and the broker fills in missing bodies
    /// with. Statuses grpc-gateway shares between codes take the most
    /// common one (400 is `INVALID_ARGUMENT`, 409 `ALREADY_EXISTS`); a body
    /// over the size limit (413) is `INVALID_ARGUMENT` too, as Scalekit
    /// answers an over-long field. Other client errors are
    /// `FAILED_PRECONDITION`, other server errors `INTERNAL`.
    pub fn from_http_status(status: u16) -> GrpcCode {
        match status {
            200..=299 => GrpcCode::Ok,
            400 | 413 => GrpcCode::InvalidArgument,
            401 => GrpcCode::Unauthenticated,
            403 => GrpcCode::PermissionDenied,
            404 => GrpcCode::NotFound,
            409 => GrpcCode::AlreadyExists,
            429 => GrpcCode::ResourceExhausted,
            499 => GrpcCode::Cancelled,
            501 => GrpcCode::Unimplemented,
            502 | 503 => GrpcCode::Unavailable,
            504 => GrpcCode::DeadlineExceeded,
            400..=499 => GrpcCode::FailedPrecondition,
            _ => GrpcCode::Internal,
        }
    }
}
