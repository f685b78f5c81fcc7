//! Providers' icons sent once: list rows name their icon by a key, and a list
//! answer carries only the icons the UI does not have yet.
//!
//! An icon is a few kilobytes of data URI and every passkey of one provider
//! has the same one, so sending it in every row of every refresh made the
//! answer twenty times larger than the rows themselves.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash as _, Hasher as _};

use serde::Serialize;

use super::view::Passkey;

/// Prefix of the keys made from an icon's content (when there is no AAGUID).
const HASH_KEY_PREFIX: &str = "icon-";

/// A provider's icon for light and dark themes: `data:image/…` URIs only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderIcon {
    /// Icon for light themes.
    pub light: Option<String>,
    /// Icon for dark themes.
    pub dark: Option<String>,
}

impl ProviderIcon {
    /// The icon from already checked data URIs; `None` when there is neither.
    pub(crate) fn from_data_uris(light: Option<String>, dark: Option<String>) -> Option<Self> {
        (light.is_some() || dark.is_some()).then_some(ProviderIcon { light, dark })
    }
}

/// The key a row names its icon by: the AAGUID in lower case, else a hash
/// of the icon (`icon-<16 hex digits>`), so that equal icons share one key.
///
/// The hash is SipHash with fixed keys (the same in every run of one build,
/// which is all a key must be: the UI's cache lives as long as the app).
/// It is not collision resistant, and need not be: icons are display only
/// and come from the same server as the rows.
pub(crate) fn icon_key(aaguid: Option<&str>, icon: &ProviderIcon) -> String {
    if let Some(aaguid) = aaguid {
        return aaguid.trim().to_lowercase();
    }
    let mut hasher = DefaultHasher::new();
    (&icon.light, &icon.dark).hash(&mut hasher);
    format!("{HASH_KEY_PREFIX}{:016x}", hasher.finish())
}

/// The answer of the UI's `list_passkeys`: the rows, and the icons they name
/// that the UI did not say it has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyList {
    /// The passkeys, in the service's order; each names its icon by
    /// `authenticator.icon_key`.
    pub passkeys: Vec<Passkey>,
    /// The icons by key, only those not in the caller's known keys.
    pub icons: BTreeMap<String, ProviderIcon>,
}

impl PasskeyList {
    /// Moves the icons out of `passkeys` into one map, leaving out the keys in
    /// `known_icons` (the icons the UI already has). When two passkeys name
    /// the same key with different icons, the first one's is sent.
    pub fn new(mut passkeys: Vec<Passkey>, known_icons: &[String]) -> PasskeyList {
        let known: HashSet<&str> = known_icons.iter().map(String::as_str).collect();
        let mut icons = BTreeMap::new();
        for passkey in &mut passkeys {
            let icon = passkey.icon.take();
            if let (Some(key), Some(icon)) = (&passkey.authenticator.icon_key, icon) {
                if !known.contains(key.as_str()) && !icons.contains_key(key) {
                    icons.insert(key.clone(), icon);
                }
            }
        }
        PasskeyList { passkeys, icons }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passkeys::wire::decode_list;

    const SVG_A: &str = "data:image/svg+xml;base64,PHN2Zy8+";
    const SVG_B: &str = "data:image/svg+xml;base64,PHN2ZyB4PSIxIi8+";

    /// One credential on the wire: `(id, aaguid, icon_light, icon_dark)`.
    type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

    /// Passkeys decoded from the wire.
    fn passkeys(rows: &[Row<'_>]) -> Vec<Passkey> {
        let credentials: Vec<serde_json::Value> = rows
            .iter()
            .map(|(id, aaguid, light, dark)| {
                serde_json::json!({"id": id, "authenticator": {
                    "aaguid": aaguid, "icon_light": light, "icon_dark": dark}})
            })
            .collect();
        decode_list(&serde_json::json!({ "credentials": credentials }))
            .unwrap()
            .into_iter()
            .filter_map(Passkey::from_wire)
            .collect()
    }

    fn key_of(passkey: &Passkey) -> Option<&str> {
        passkey.authenticator.icon_key.as_deref()
    }

    #[test]
    fn rows_name_their_icon_by_aaguid_else_by_a_hash_of_the_icon() {
        let list = passkeys(&[
            (
                "a",
                Some("FBFC3007-154E-4ECC-8C0B-6E020557D7BD"),
                Some(SVG_A),
                Some(SVG_B),
            ),
            ("b", None, Some(SVG_A), None),
            ("c", None, Some(SVG_A), None),
            ("d", None, Some(SVG_B), None),
            ("e", None, None, Some(SVG_A)),
            (
                "f",
                Some("ee882879-721c-4913-9775-3dfcce97072a"),
                None,
                None,
            ),
            ("g", None, Some("https://tracker.example/i.png"), None),
        ]);
        assert_eq!(
            key_of(&list[0]),
            Some("fbfc3007-154e-4ecc-8c0b-6e020557d7bd")
        );
        let hashed = key_of(&list[1]).unwrap();
        assert!(hashed.starts_with("icon-") && hashed.len() == "icon-".len() + 16);
        assert_eq!(key_of(&list[2]), Some(hashed), "equal icons, one key");
        assert_ne!(key_of(&list[3]), Some(hashed), "another icon, another key");
        assert_ne!(
            key_of(&list[4]),
            Some(hashed),
            "light and dark are told apart"
        );
        assert_eq!(
            key_of(&list[5]),
            None,
            "an AAGUID without an icon names none"
        );
        assert_eq!(
            key_of(&list[6]),
            None,
            "a remote icon is dropped, so no key"
        );
        assert_eq!(list[6].icon, None);
    }

    #[test]
    fn a_list_carries_each_unknown_icon_once() {
        let aaguid = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd";
        let rows = [
            ("a", Some(aaguid), Some(SVG_A), Some(SVG_B)),
            ("b", Some(aaguid), Some(SVG_A), Some(SVG_B)),
            ("c", None, Some(SVG_B), None),
            ("d", None, None, None),
        ];

        // Given a UI that has no icon yet
        let list = PasskeyList::new(passkeys(&rows), &[]);
        // Then each icon comes once, under the key its rows name
        assert_eq!(list.passkeys.len(), 4);
        assert_eq!(list.icons.len(), 2);
        assert_eq!(
            list.icons[aaguid],
            ProviderIcon {
                light: Some(SVG_A.into()),
                dark: Some(SVG_B.into())
            }
        );
        let hashed = key_of(&list.passkeys[2]).unwrap().to_string();
        assert_eq!(list.icons[&hashed].light.as_deref(), Some(SVG_B));
        assert!(list.passkeys.iter().all(|passkey| passkey.icon.is_none()));

        // When the UI says it has the AAGUID's icon
        let list = PasskeyList::new(passkeys(&rows), &[aaguid.to_string()]);
        // Then only the other one comes
        assert_eq!(list.icons.keys().collect::<Vec<_>>(), [&hashed]);
        assert_eq!(
            key_of(&list.passkeys[0]),
            Some(aaguid),
            "rows still name it"
        );

        // And with both known, the answer has rows only
        let list = PasskeyList::new(passkeys(&rows), &[aaguid.to_string(), hashed]);
        assert!(list.icons.is_empty());
        let json = serde_json::to_string(&list).unwrap();
        assert!(!json.contains("data:image"), "{json}");
    }

    #[test]
    fn the_first_icon_of_a_shared_key_is_sent() {
        let aaguid = Some("ee882879-721c-4913-9775-3dfcce97072a");
        let list = PasskeyList::new(
            passkeys(&[
                ("a", aaguid, Some(SVG_A), None),
                ("b", aaguid, Some(SVG_B), None),
            ]),
            &[],
        );
        assert_eq!(list.icons.len(), 1);
        assert_eq!(
            list.icons.values().next().unwrap().light.as_deref(),
            Some(SVG_A)
        );
    }

    #[test]
    fn the_answer_is_camel_case() {
        let list = PasskeyList::new(passkeys(&[("a", None, Some(SVG_A), None)]), &[]);
        let value = serde_json::to_value(&list).unwrap();
        let key = value["passkeys"][0]["authenticator"]["iconKey"]
            .as_str()
            .unwrap();
        assert_eq!(
            value["icons"][key],
            serde_json::json!({"light": SVG_A, "dark": null})
        );
    }
}
