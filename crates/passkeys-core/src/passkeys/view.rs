//! The passkey as the UI sees it (camelCase), built from the lenient wire type.

use serde::Serialize;

use super::icons::{icon_key, ProviderIcon};
use scalekit_wire::credential::Credential;

/// One passkey, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Passkey {
    /// Opaque credential id (`wac_…`, `cred_…`).
    pub id: String,
    /// The user's name for it, else the authenticator's name, else "Passkey".
    /// Always shown as text, never as HTML.
    pub display_name: String,
    /// When it was registered (RFC 3339, as sent), if known.
    pub created_at: Option<String>,
    /// The authenticator (from its AAGUID).
    pub authenticator: AuthenticatorInfo,
    /// Backed up and synced (`backup_eligible && backup_state`).
    pub synced: bool,
    /// Cannot leave its device (`!backup_eligible`).
    pub device_bound: bool,
    /// WebAuthn transports (`internal`, `hybrid`, `usb`, ...).
    pub transports: Vec<String>,
    /// Where it was registered.
    pub registered_from: RegisteredFrom,
    /// The provider's icon, named by `authenticator.icon_key`. Not serialised:
    /// icons reach the UI once, beside the rows (see [`super::PasskeyList`]).
    #[serde(skip)]
    pub icon: Option<ProviderIcon>,
}

/// The authenticator's provider, for display only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorInfo {
    /// The AAGUID, when sent.
    pub aaguid: Option<String>,
    /// Provider name, e.g. "iCloud Keychain"; `None` when not known (a
    /// generic name such as "Passkey" names no provider).
    pub name: Option<String>,
    /// The key of the provider's icon (the AAGUID, else a hash of the icon),
    /// `None` when there is no icon. The icon itself travels once, in
    /// [`super::PasskeyList::icons`].
    pub icon_key: Option<String>,
    /// `platform` or `cross-platform`.
    pub attachment: Option<String>,
}

/// The browser and place a passkey was registered from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredFrom {
    /// Browser name.
    pub browser: Option<String>,
    /// Browser version.
    pub browser_version: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// Operating system version.
    pub os_version: Option<String>,
    /// `desktop`, `mobile`, ...
    pub device_type: Option<String>,
    /// City (from the IP address).
    pub city: Option<String>,
    /// Region (from the IP address).
    pub region: Option<String>,
}

impl Passkey {
    /// Builds the view; `None` when the credential has no id (it could not be renamed or removed).
    pub(crate) fn from_wire(wire: Credential) -> Option<Passkey> {
        let id = wire.id.filter(|id| !id.is_empty())?;
        let authenticator = wire.authenticator.unwrap_or_default();
        let flags = wire.authenticator_flags.unwrap_or_default();
        let backup_eligible = flags.backup_eligible.unwrap_or(false);
        let user_agent = wire.user_agent.unwrap_or_default();
        let client_info = wire.client_info.unwrap_or_default();
        let authenticator_name = non_empty(authenticator.name);
        // A generic name ("Passkey", "Security key") names no provider.
        let provider = authenticator_name
            .clone()
            .filter(|name| !scalekit_wire::is_generic_authenticator_name(name));
        let aaguid = non_empty(authenticator.aaguid);
        let icon = ProviderIcon::from_data_uris(
            image_data_uri(authenticator.icon_light),
            image_data_uri(authenticator.icon_dark),
        );
        let icon_key = icon.as_ref().map(|icon| icon_key(aaguid.as_deref(), icon));
        let display_name = non_empty(wire.display_name)
            .or(authenticator_name)
            .unwrap_or_else(|| scalekit_wire::GENERIC_PASSKEY_NAME.to_string());
        Some(Passkey {
            id,
            display_name,
            created_at: non_empty(wire.created_at),
            authenticator: AuthenticatorInfo {
                aaguid,
                name: provider,
                icon_key,
                attachment: non_empty(authenticator.attachment),
            },
            synced: backup_eligible && flags.backup_state.unwrap_or(false),
            device_bound: !backup_eligible,
            transports: wire.transports.unwrap_or_default(),
            registered_from: RegisteredFrom {
                browser: non_empty(user_agent.browser),
                browser_version: non_empty(user_agent.browser_version),
                os: non_empty(user_agent.os),
                os_version: non_empty(user_agent.os_version),
                device_type: non_empty(user_agent.device_type),
                city: non_empty(client_info.city),
                region: non_empty(client_info.region),
            },
            icon,
        })
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.trim().is_empty())
}

/// Keeps icons only as inline images: the webview loads no remote content.
fn image_data_uri(value: Option<String>) -> Option<String> {
    value.filter(|uri| uri.starts_with("data:image/"))
}
