//! The grpc-gateway error body parser of the passkeys API.
//!
//! Input: two bytes of HTTP status, then the body. Invariants: no panic; the
//! message is never empty, bounded and free of control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [high, low, body @ ..] => (400 + u16::from_be_bytes([*high, *low]) % 200, body),
        _ => (500, data),
    };
    let error = passkeys_core::fuzzing::error_body(status, body);
    assert_eq!(error.status, status);
    assert!(!error.message.trim().is_empty(), "empty message");
    assert!(error.message.chars().count() <= 300, "message too long");
    for text in std::iter::once(&error.message)
        .chain(error.error_code.as_ref())
        .chain(error.field_violations.iter().map(|v| &v.description))
    {
        assert!(
            !text.chars().any(char::is_control),
            "control character in {text:?}"
        );
    }
});
