use super::*;

#[test]
fn codes_round_trip_through_their_numbers_and_statuses() {
    for number in 0..=16 {
        let code = GrpcCode::from_code(number).unwrap();
        assert_eq!(code.code(), number);
        // grpc-gateway's status for a code maps back to a code with that status.
        assert_eq!(
            GrpcCode::from_http_status(code.http_status()).http_status(),
            code.http_status(),
            "{code:?}"
        );
    }
    assert_eq!(GrpcCode::from_code(17), None);
}

#[test]
fn the_one_http_status_table() {
    let table = [
        (400, GrpcCode::InvalidArgument, "INVALID_ARGUMENT"),
        (401, GrpcCode::Unauthenticated, "UNAUTHENTICATED"),
        (403, GrpcCode::PermissionDenied, "PERMISSION_DENIED"),
        (404, GrpcCode::NotFound, "NOT_FOUND"),
        (409, GrpcCode::AlreadyExists, "ALREADY_EXISTS"),
        // The emulator said OUT_OF_RANGE, the broker INVALID_ARGUMENT: one answer now.
        (413, GrpcCode::InvalidArgument, "INVALID_ARGUMENT"),
        (418, GrpcCode::FailedPrecondition, "FAILED_PRECONDITION"),
        (429, GrpcCode::ResourceExhausted, "RESOURCE_EXHAUSTED"),
        (500, GrpcCode::Internal, "INTERNAL"),
        (502, GrpcCode::Unavailable, "UNAVAILABLE"),
        (503, GrpcCode::Unavailable, "UNAVAILABLE"),
        (504, GrpcCode::DeadlineExceeded, "DEADLINE_EXCEEDED"),
    ];
    for (status, code, name) in table {
        assert_eq!(GrpcCode::from_http_status(status), code, "{status}");
        assert_eq!(code.name(), name);
    }
    assert_eq!(GrpcCode::Unauthenticated.code(), 16);
    assert_eq!(GrpcCode::OutOfRange.code(), 11);
}

#[test]
fn bodies_are_built_in_the_grpc_gateway_shape() {
    let body = ErrorBody::new(GrpcCode::InvalidArgument, "too long", "INVALID_ARGUMENT")
        .with_request_id("req-1")
        .with_field_violation(FieldViolation::new(
            "display_name",
            "too long",
            Some("string.max_len".into()),
        ));
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({
            "code": 3,
            "message": "too long",
            "details": [{
                "@type": ERROR_INFO_TYPE,
                "error_code": "INVALID_ARGUMENT",
                "request_info": {"request_id": "req-1"},
                "validation_error_info": {"field_violations": [
                    {"field": "display_name", "description": "too long", "constraint": "string.max_len"}
                ]}
            }]
        })
    );
}
