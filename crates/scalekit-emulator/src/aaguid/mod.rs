//! Authenticator names and icons by AAGUID, from the bundled community list.
//!
//! The data (`aaguids.json`, see `NOTICE.md` beside it for its source and
//! licence) is keyed by lowercase hyphenated AAGUID. Icons are stored once
//! each, as data URIs, and referenced by file name so that an icon shared by a
//! vendor's whole product line is kept only once. Display only: an AAGUID is
//! never a security decision.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The all-zero AAGUID: sent by many security keys, by authenticators that hide
/// their model, and by Chromium's virtual authenticator. It names nothing.
pub const ZERO_AAGUID: &str = "00000000-0000-0000-0000-000000000000";

/// What the community list knows about one authenticator model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticator {
    /// Human name, e.g. "Google Password Manager".
    pub name: String,
    /// Icon for light backgrounds, as a `data:` URI.
    pub icon_light: Option<String>,
    /// Icon for dark backgrounds, as a `data:` URI.
    pub icon_dark: Option<String>,
}

/// Another name for [`Authenticator`].
pub type AuthenticatorInfo = Authenticator;

#[derive(Debug, Deserialize)]
struct Entry {
    name: String,
    icon_light: Option<String>,
    icon_dark: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct Bundle {
    authenticators: HashMap<String, Entry>,
    icons: HashMap<String, String>,
}

static BUNDLE: LazyLock<Bundle> = LazyLock::new(|| {
    serde_json::from_str(include_str!("aaguids.json")).unwrap_or_else(|error| {
        tracing::error!(%error, "bundled AAGUID list does not parse; authenticator names are unknown");
        Bundle::default()
    })
});

/// Looks up an authenticator model by AAGUID (any case, hyphenated).
///
/// Returns `None` for the all-zero AAGUID and for models the list does not know.
pub fn lookup(aaguid: &str) -> Option<Authenticator> {
    let key = aaguid.trim().to_ascii_lowercase();
    if key == ZERO_AAGUID {
        return None;
    }
    let bundle = &*BUNDLE;
    let entry = bundle.authenticators.get(&key)?;
    let icon = |file: &Option<String>| file.as_ref().and_then(|f| bundle.icons.get(f)).cloned();
    Some(Authenticator {
        name: entry.name.clone(),
        icon_light: icon(&entry.icon_light),
        icon_dark: icon(&entry.icon_dark),
    })
}

/// The name to show for a passkey: the model's name when the list knows its
/// AAGUID, otherwise a generic one chosen by attachment ("Security key" for a
/// roaming authenticator, "Passkey" otherwise).
pub fn display_name(aaguid: Option<&str>, attachment: Option<&str>) -> String {
    if let Some(found) = aaguid.and_then(lookup) {
        return found.name;
    }
    match attachment {
        Some("cross-platform") => scalekit_wire::GENERIC_SECURITY_KEY_NAME.to_owned(),
        _ => scalekit_wire::GENERIC_PASSKEY_NAME.to_owned(),
    }
}

/// Number of authenticator models in the bundled list.
pub fn known_count() -> usize {
    BUNDLE.authenticators.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_list_parses_and_is_not_empty() {
        assert!(known_count() > 100, "only {} entries", known_count());
    }

    #[test]
    fn every_referenced_icon_is_bundled() {
        for (aaguid, entry) in &BUNDLE.authenticators {
            for file in [&entry.icon_light, &entry.icon_dark].into_iter().flatten() {
                let uri = BUNDLE
                    .icons
                    .get(file)
                    .unwrap_or_else(|| panic!("{aaguid}: {file}"));
                assert!(uri.starts_with("data:image/"), "{file}");
            }
            assert_eq!(aaguid, &aaguid.to_ascii_lowercase());
        }
    }

    #[test]
    fn known_models_resolve_with_icons() {
        let cases = [
            (
                "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
                "Google Password Manager",
            ),
            (
                "EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4",
                "Google Password Manager",
            ),
            ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
            ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
        ];
        for (aaguid, name) in cases {
            let found = lookup(aaguid).unwrap_or_else(|| panic!("{aaguid} unknown"));
            assert_eq!(found.name, name);
            let light = found.icon_light.unwrap_or_default();
            assert!(
                light.starts_with("data:image/svg+xml;base64,"),
                "{light:.40}"
            );
        }
    }

    #[test]
    fn zero_and_unknown_aaguids_fall_back_by_attachment() {
        assert_eq!(lookup(ZERO_AAGUID), None);
        assert_eq!(lookup("not-an-aaguid"), None);
        let cases = [
            (Some(ZERO_AAGUID), Some("cross-platform"), "Security key"),
            (Some(ZERO_AAGUID), Some("platform"), "Passkey"),
            (None, None, "Passkey"),
            (
                Some("bada5566-a7aa-401f-bd96-45619a55120d"),
                Some("platform"),
                "1Password",
            ),
        ];
        for (aaguid, attachment, expected) in cases {
            assert_eq!(display_name(aaguid, attachment), expected);
        }
    }
}
