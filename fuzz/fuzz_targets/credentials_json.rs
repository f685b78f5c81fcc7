//! The credentials JSON decoder (list and rename answers) and its view model.
//!
//! Invariants: no panic; whatever decodes serialises back for the UI, and
//! every passkey has an id; icons are only inline images (the webview loads
//! no remote content).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((list, single)) = passkeys_core::fuzzing::credentials(data) {
        for passkey in list.iter().chain(single.as_ref()) {
            assert!(!passkey.id.is_empty(), "a passkey without id");
            assert_eq!(
                passkey.icon.is_some(),
                passkey.authenticator.icon_key.is_some()
            );
            for icon in passkey
                .icon
                .iter()
                .flat_map(|icon| [&icon.light, &icon.dark])
                .flatten()
            {
                assert!(icon.starts_with("data:image/"), "a remote icon: {icon:.40}");
            }
            let json = serde_json::to_string(passkey).expect("the view model serialises");
            assert!(json.starts_with('{'));
        }
    }
});
