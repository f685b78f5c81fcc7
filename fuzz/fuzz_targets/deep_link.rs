//! The deep-link classifier (`dev.passkeys.desktop:/callback?…`, `…://sign-in`).
//!
//! Invariants: no panic; only links of the app's scheme within the length
//! limit are accepted; a refusal is a short message without control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passkeys_core::MAX_DEEP_LINK_LEN;

fuzz_target!(|data: &[u8]| {
    let link = String::from_utf8_lossy(data);
    match passkeys_core::fuzzing::deep_link(&link) {
        Ok(query) => {
            assert!(
                link.len() <= MAX_DEEP_LINK_LEN,
                "accepted an over-long link"
            );
            assert!(
                link.to_ascii_lowercase()
                    .starts_with("dev.passkeys.desktop:"),
                "accepted another scheme"
            );
            assert!(!link.contains('#'), "accepted a fragment");
            if let Some(query) = query {
                assert!(link.ends_with(&query));
            }
        }
        Err(message) => {
            assert!(
                !message.chars().any(char::is_control),
                "control character in {message:?}"
            );
            assert!(message.chars().count() < 300, "message too long");
        }
    }
});
