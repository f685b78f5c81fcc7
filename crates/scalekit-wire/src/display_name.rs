//! A passkey's display name: Scalekit's rule (`UpdateCredentialRequest.display_name`
//! is `string.min_len: 1, max_len: 120`, counted in characters) and the
//! app's stricter rule for names people type.

use crate::{Error, Result};

/// The most characters a display name may have (Scalekit's `max_len`).
/// The UI's limit (`MAX_NAME_LENGTH` in `ui/src/validation.ts`) is checked
/// against it by this crate's tests.
pub const DISPLAY_NAME_MAX_CHARS: usize = 120;

/// The name an authenticator gets when its model is not known (no AAGUID, or
/// one the metadata does not list) and it is built into a device or held by a
/// password manager. Not a provider's name: the app says "unknown provider".
/// Scalekit's own wording for unknown models is not published; the
/// emulator answers these.
pub const GENERIC_PASSKEY_NAME: &str = "Passkey";

/// The same for an unknown roaming authenticator (attachment
/// `cross-platform`).
pub const GENERIC_SECURITY_KEY_NAME: &str = "Security key";

/// Whether an authenticator's name is one of the generic names above rather
/// than its provider's (compared as given, after trimming).
#[must_use]
pub fn is_generic_authenticator_name(name: &str) -> bool {
    matches!(
        name.trim(),
        GENERIC_PASSKEY_NAME | GENERIC_SECURITY_KEY_NAME
    )
}

/// Scalekit's rule, on the name exactly as given: 1 to
/// [`DISPLAY_NAME_MAX_CHARS`] characters.
///
/// # Errors
/// [`Error::EmptyDisplayName`] or [`Error::DisplayNameTooLong`].
pub fn check_display_name_length(name: &str) -> Result<()> {
    let chars = name.chars().count();
    if chars == 0 {
        Err(Error::EmptyDisplayName)
    } else if chars > DISPLAY_NAME_MAX_CHARS {
        Err(Error::DisplayNameTooLong { chars })
    } else {
        Ok(())
    }
}

/// The rule for a name a person typed: trimmed, no control characters (line
/// breaks, tabs), then Scalekit's length rule. Returns the trimmed name;
/// markup is kept verbatim (names are shown as text).
///
/// # Errors
/// [`Error::EmptyDisplayName`], [`Error::DisplayNameControlCharacter`] or
/// [`Error::DisplayNameTooLong`].
pub fn validate_display_name(name: &str) -> Result<&str> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(Error::EmptyDisplayName);
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::DisplayNameControlCharacter);
    }
    check_display_name_length(trimmed)?;
    Ok(trimmed)
}

impl Error {
    /// The protovalidate rule a display-name error breaks, for a field
    /// violation's `constraint` (`string.min_len`, `string.max_len`,
    /// `string.pattern`); `None` for other errors.
    pub fn constraint(&self) -> Option<&'static str> {
        match self {
            Error::EmptyDisplayName => Some("string.min_len"),
            Error::DisplayNameTooLong { .. } => Some("string.max_len"),
            Error::DisplayNameControlCharacter => Some("string.pattern"),
            Error::NotABaseUrl(_) | Error::InvalidQueryParameter { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalekit_counts_characters_of_the_name_as_given() {
        let longest = "é".repeat(DISPLAY_NAME_MAX_CHARS);
        let too_long = "a".repeat(DISPLAY_NAME_MAX_CHARS + 1);
        let cases: [(&str, Result<()>); 5] = [
            ("My key", Ok(())),
            ("   ", Ok(())),
            (&longest, Ok(())),
            ("", Err(Error::EmptyDisplayName)),
            (
                &too_long,
                Err(Error::DisplayNameTooLong {
                    chars: DISPLAY_NAME_MAX_CHARS + 1,
                }),
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(check_display_name_length(name), expected, "{name:?}");
        }
    }

    #[test]
    fn typed_names_are_trimmed_and_checked() {
        let longest = "🔑".repeat(DISPLAY_NAME_MAX_CHARS);
        let too_long = "é".repeat(DISPLAY_NAME_MAX_CHARS + 1);
        let cases: Vec<(&str, Result<&str>)> = vec![
            ("  Laptop ", Ok("Laptop")),
            ("<b>Key</b>", Ok("<b>Key</b>")),
            (&longest, Ok(&longest)),
            ("", Err(Error::EmptyDisplayName)),
            (" \t ", Err(Error::EmptyDisplayName)),
            ("line\nbreak", Err(Error::DisplayNameControlCharacter)),
            ("del\u{7f}", Err(Error::DisplayNameControlCharacter)),
            (
                &too_long,
                Err(Error::DisplayNameTooLong {
                    chars: DISPLAY_NAME_MAX_CHARS + 1,
                }),
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(validate_display_name(name), expected, "{name:?}");
        }
        assert_eq!(Error::EmptyDisplayName.constraint(), Some("string.min_len"));
        assert_eq!(
            Error::DisplayNameTooLong { chars: 121 }.constraint(),
            Some("string.max_len")
        );
    }
}
