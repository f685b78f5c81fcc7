//! The UI's passkey-name limit is this crate's constant: the UI source
//! (`ui/src/validation.ts`) must say `MAX_NAME_LENGTH = DISPLAY_NAME_MAX_CHARS`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scalekit_wire::DISPLAY_NAME_MAX_CHARS;

#[test]
fn the_ui_limit_is_display_name_max_chars() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/validation.ts");
    let source = std::fs::read_to_string(path).unwrap();
    let declared: Vec<&str> = source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("export const MAX_NAME_LENGTH ="))
        .map(|value| value.trim().trim_end_matches(';').trim())
        .collect();
    assert_eq!(
        declared,
        [DISPLAY_NAME_MAX_CHARS.to_string()],
        "ui/src/validation.ts must declare `export const MAX_NAME_LENGTH = {DISPLAY_NAME_MAX_CHARS};`"
    );
}
