//! Authenticator names and icons by AAGUID (community list). Placeholder:
//! the hosted-pages work replaces the body of [`lookup`] with the bundled data.

/// What the community AAGUID list says about an authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorInfo {
    /// e.g. `iCloud Keychain`.
    pub name: String,
    /// SVG data URI for light backgrounds.
    pub icon_light: Option<String>,
    /// SVG data URI for dark backgrounds.
    pub icon_dark: Option<String>,
}

/// Looks up a lowercase hyphenated AAGUID.
pub fn lookup(aaguid: &str) -> Option<AuthenticatorInfo> {
    let _ = aaguid;
    None
}
