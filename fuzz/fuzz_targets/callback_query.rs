//! The authorization response parser (loopback and deep-link callbacks).
//!
//! Input: the first line is the expected `state`, the rest the query.
//! Invariants: no panic; an accepted answer has a non-empty code; a refusal
//! is a short message without control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (state, query) = text.split_once('\n').unwrap_or(("expected-state", &text));
    for expected in [state, "expected-state"] {
        match passkeys_core::fuzzing::callback_query(query, expected) {
            Ok(code) => assert!(!code.is_empty(), "accepted an empty code"),
            Err(message) => {
                assert!(
                    !message.chars().any(char::is_control),
                    "control character in {message:?}"
                );
                assert!(message.chars().count() < 700, "message too long");
            }
        }
    }
});
