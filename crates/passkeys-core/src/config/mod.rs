//! Configuration: which environment, which client, how the browser comes
//! back, and where the passkeys broker is.
//!
//! Read from `config.toml` in the app's folder of the platform config
//! directory (named after the app identifier [`APP_IDENTIFIER`], as Tauri's
//! own `app_config_dir` is: `~/.config/dev.passkeys.desktop` on Linux), then
//! overridden by environment variables:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `PASSKEYS_CONFIG` | another config file path |
//! | `PASSKEYS_ENV_URL` | environment URL (also the OIDC issuer) |
//! | `PASSKEYS_CLIENT_ID` | the native client's id (`ntvc_…`) |
//! | `PASSKEYS_REDIRECT` | `loopback`, `loopback:PORT` or `deeplink` |
//! | `PASSKEYS_DEEP_LINK_URI` | the deep-link redirect URI (default `dev.passkeys.desktop:/callback`) |
//! | `PASSKEYS_API_URL` | your organisation's passkeys broker (none by default) |
//! | `PASSKEYS_BROWSER` | browser command line, `{url}` is replaced by the URL |
//! | `PASSKEYS_KEYCHAIN_SERVICE` | keychain service name |
//!
//! The file uses the same names in snake case:
//!
//! ```toml
//! environment_url = "https://acme.scalekit.dev"
//! client_id = "ntvc_123"
//! api_url = "https://passkeys-broker.example.com"
//! # redirect = "deeplink"                    # or "loopback", "loopback:8765"
//! # deep_link_redirect_uri = "dev.passkeys.desktop:/callback"
//! # scopes = ["openid", "profile", "email", "offline_access"]
//! # browser = "chromium --new-window {url}"
//! # keychain_service = "dev.passkeys.desktop"
//! # sign_in_timeout_secs = 300
//! # post_logout_redirect_uri = "dev.passkeys.desktop:/signed-out"
//! ```
//!
//! **Several environments.** `[environments.NAME]` tables name more
//! environments (see `environments/`, [`Config::load_environments`]); the
//! top-level one above is then the environment `default`.
//!
//! **Redirect.** Without `redirect`, an environment on another host signs in
//! through the deep link (`deep_link_redirect_uri`, the production path:
//! Scalekit accepts private-use schemes and refuses `localhost`), and an
//! environment on this machine (`localhost`, `127.0.0.1`, `::1`) through the
//! loopback on an ephemeral port.
//!
//! **Passkeys API.** Scalekit's credentials API takes an environment client's
//! client-credentials token, never an end user's, and a desktop app must not
//! hold a client secret. So passkeys are listed, renamed and removed only
//! through a passkeys broker your organisation runs (`api_url`), which
//! receives the user's own access token. Without `api_url` sign-in works,
//! and those calls fail with [`Error::PasskeysBrokerMissing`]: the user
//! manages their passkeys in the browser
//! ([`Config::manage_passkeys_url`]).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::{Host, Url};

use crate::error::{Error, Result};

mod environments;
mod file;
mod settings;

use file::{read_file, settings_from_file, FileConfig};

pub use environments::{
    EnvironmentKind, Environments, NamedEnvironment, DEFAULT_ENVIRONMENT, LOCAL_ENVIRONMENT,
};
pub use settings::{LocalSettings, Settings};

/// The default keychain service name, also the default deep-link scheme.
pub const DEFAULT_KEYCHAIN_SERVICE: &str = APP_IDENTIFIER;

/// The app's identifier (reverse DNS), also the name of its config folder.
pub const APP_IDENTIFIER: &str = "dev.passkeys.desktop";
/// The default deep-link redirect URI (private-use scheme, RFC 8252 §7.1).
pub const DEFAULT_DEEP_LINK_REDIRECT_URI: &str = "dev.passkeys.desktop:/callback";
/// The default scopes.
pub const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];
/// The default time a sign-in waits for the browser.
pub const DEFAULT_SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

/// Everything the client core needs to know about the environment and the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The environment's base URL, which is also the OIDC issuer.
    pub environment_url: Url,
    /// The native (public) client's id.
    pub client_id: String,
    /// Requested scopes (default `openid profile email offline_access`).
    pub scopes: Vec<String>,
    /// How the browser hands the authorization code back.
    pub redirect: RedirectMode,
    /// The passkeys broker the passkeys API is reached through; `None`:
    /// passkeys are managed in the browser only.
    pub api: Option<ApiConfig>,
    /// A browser command line (`{url}` is replaced, or the URL is appended).
    /// `None`: the [`crate::BrowserLauncher`] the app hands in.
    pub browser_command: Option<String>,
    /// How long a sign-in waits for the browser (default 5 minutes).
    pub sign_in_timeout: Duration,
    /// Keychain service name (default `dev.passkeys.desktop`).
    pub keychain_service: String,
    /// `post_logout_redirect_uri` sent at sign-out. `None`: for the deep-link mode
    /// `<scheme>:/signed-out`, for the loopback mode nothing (no one listens then).
    pub post_logout_redirect_uri: Option<Url>,
}

/// How the authorization response comes back from the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectMode {
    /// A one-shot HTTP listener on `127.0.0.1` (RFC 8252 §7.3);
    /// redirect URI `http://127.0.0.1:<port>/callback`.
    Loopback {
        /// Fixed port, or 0 for an ephemeral one.
        port: u16,
    },
    /// A private-use URI scheme handed to the app by the OS (RFC 8252 §7.1).
    DeepLink {
        /// The exact registered redirect URI, e.g. `dev.passkeys.desktop:/callback`.
        redirect_uri: Url,
    },
}

impl RedirectMode {
    /// The redirect used when none is configured: the loopback on an
    /// ephemeral port for an environment on this machine (`localhost`,
    /// 127.0.0.0/8, `::1`), else the deep link with
    /// [`DEFAULT_DEEP_LINK_REDIRECT_URI`] (what Scalekit accepts in production).
    pub fn default_for(environment_url: &Url) -> RedirectMode {
        if is_loopback_host(environment_url) {
            return RedirectMode::Loopback { port: 0 };
        }
        match Url::parse(DEFAULT_DEEP_LINK_REDIRECT_URI) {
            Ok(redirect_uri) => RedirectMode::DeepLink { redirect_uri },
            // The constant parses (a unit test says so); never reached.
            Err(_) => RedirectMode::Loopback { port: 0 },
        }
    }
}

/// Where the passkeys API lives: a passkeys broker, which receives the
/// signed-in user's access token as `Authorization: Bearer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The broker's base URL (the routes are under `/api/v1/webauthn/credentials`).
    pub base_url: Url,
}

impl ApiConfig {
    /// The passkeys broker at `base_url`.
    pub fn new(base_url: Url) -> ApiConfig {
        ApiConfig { base_url }
    }
}

impl Config {
    /// A configuration with defaults: the redirect [`RedirectMode::default_for`]
    /// the environment, no passkeys broker, the default scopes, timeout and
    /// keychain service.
    pub fn new(environment_url: Url, client_id: impl Into<String>) -> Config {
        Config {
            api: None,
            redirect: RedirectMode::default_for(&environment_url),
            environment_url,
            client_id: client_id.into(),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            browser_command: None,
            sign_in_timeout: DEFAULT_SIGN_IN_TIMEOUT,
            keychain_service: DEFAULT_KEYCHAIN_SERVICE.to_string(),
            post_logout_redirect_uri: None,
        }
    }

    /// The config file path: `PASSKEYS_CONFIG`, else `config.toml` in the
    /// platform config dir's `dev.passkeys.desktop` folder.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("PASSKEYS_CONFIG") {
            return Some(PathBuf::from(path));
        }
        directories::BaseDirs::new()
            .map(|dirs| dirs.config_dir().join(APP_IDENTIFIER).join("config.toml"))
    }

    /// Loads the config file (if any) and the environment overrides.
    ///
    /// Returns `Ok(None)` when nothing is configured (the app then uses its
    /// embedded emulator).
    ///
    /// # Errors
    /// [`Error::Config`] when the file cannot be read or parsed, when only part
    /// of the required settings is present, or when [`Config::validate`] fails.
    pub fn load() -> Result<Option<Config>> {
        Ok(Config::load_settings()?.environment())
    }

    /// Like [`Config::load`] with an explicit file and variable lookup (for tests and tools).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_from(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Config>> {
        Ok(Config::load_settings_from(path, env)?.environment())
    }

    /// Reads the config file and the environment once: an environment's
    /// configuration, or (nothing configured) the settings that still apply
    /// to the app's local environment.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_settings() -> Result<Settings> {
        let path = Config::default_path();
        Config::load_settings_from(path.as_deref(), |name| std::env::var(name).ok())
    }

    /// Like [`Config::load_settings`] with an explicit file and variable lookup.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_settings_from(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let mut file = read_file(path, env)?;
        match file.environments.take() {
            Some(tables) if file.environment_url.is_none() && file.client_id.is_none() => {
                // Only named environments: the first one is "the" environment.
                match tables.into_iter().next() {
                    Some((name, table)) => environments::settings_of(name, table, &file),
                    None => settings_from_file(file),
                }
            }
            _ => settings_from_file(file),
        }
    }
}

impl Config {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::Config`] when an `http://` URL is not on a loopback host
    /// (127.0.0.0/8, `::1`, `localhost`), when a URL has a query or fragment,
    /// when the client id or keychain service is empty, when `openid` is not
    /// among the scopes, when the deep-link redirect URI uses http(s), or when
    /// the timeout is zero.
    pub fn validate(&self) -> Result<()> {
        check_web_url("environment URL", &self.environment_url)?;
        if let Some(api) = &self.api {
            check_web_url("passkeys API URL", &api.base_url)?;
        }
        if self.client_id.trim().is_empty() {
            return Err(Error::Config("The client id is empty.".into()));
        }
        if !self.scopes.iter().any(|scope| scope == "openid") {
            return Err(Error::Config("The scopes must include \"openid\".".into()));
        }
        if let RedirectMode::DeepLink { redirect_uri } = &self.redirect {
            if matches!(redirect_uri.scheme(), "http" | "https") {
                return Err(Error::Config(format!(
                    "The deep-link redirect URI {redirect_uri} must use a private-use scheme (like dev.passkeys.desktop:/callback), not {}.",
                    redirect_uri.scheme()
                )));
            }
            if redirect_uri.query().is_some() || redirect_uri.fragment().is_some() {
                return Err(Error::Config(format!(
                    "The deep-link redirect URI {redirect_uri} must not have a query or fragment."
                )));
            }
        }
        if self.keychain_service.trim().is_empty() {
            return Err(Error::Config("The keychain service name is empty.".into()));
        }
        if self.sign_in_timeout.is_zero() {
            return Err(Error::Config(
                "The sign-in timeout must be positive.".into(),
            ));
        }
        if let Some(command) = &self.browser_command {
            if command.trim().is_empty() {
                return Err(Error::Config("The browser command is empty.".into()));
            }
        }
        Ok(())
    }

    /// Sets the passkeys broker the passkeys API is reached through.
    pub fn set_api_url(&mut self, base_url: Url) {
        self.api = Some(ApiConfig::new(base_url));
    }

    /// This configuration with the passkeys broker at `base_url`.
    #[must_use]
    pub fn with_api_url(mut self, base_url: Url) -> Config {
        self.set_api_url(base_url);
        self
    }

    /// The passkeys broker's base URL, when one is configured.
    pub fn api_url(&self) -> Option<&Url> {
        self.api.as_ref().map(|api| &api.base_url)
    }

    /// The private-use scheme of deep links (`<scheme>://sign-in`,
    /// `<scheme>:/callback`): the deep-link redirect URI's scheme, else
    /// `dev.passkeys.desktop`.
    pub fn deep_link_scheme(&self) -> String {
        match &self.redirect {
            RedirectMode::DeepLink { redirect_uri } => redirect_uri.scheme().to_string(),
            RedirectMode::Loopback { .. } => DEFAULT_KEYCHAIN_SERVICE.to_string(),
        }
    }

    /// Whether the browser comes back to the app by a link of its scheme
    /// (a deep-link redirect, or a sign-out return to a private-use
    /// scheme), which the system must route to this app. A loopback
    /// redirect needs no registered scheme.
    pub fn uses_link_scheme(&self) -> bool {
        matches!(self.redirect, RedirectMode::DeepLink { .. })
            || self
                .post_logout_redirect_uri
                .as_ref()
                .is_some_and(|uri| !matches!(uri.scheme(), "http" | "https"))
    }

    /// The `post_logout_redirect_uri` to send at sign-out, if any.
    pub fn effective_post_logout_redirect_uri(&self) -> Option<Url> {
        if let Some(uri) = &self.post_logout_redirect_uri {
            return Some(uri.clone());
        }
        match &self.redirect {
            RedirectMode::DeepLink { redirect_uri } => {
                Url::parse(&format!("{}:/signed-out", redirect_uri.scheme())).ok()
            }
            RedirectMode::Loopback { .. } => None,
        }
    }

    /// `<environment>/ui/profile/passkeys`: the environment's own page where
    /// the user adds, renames and removes passkeys in the browser.
    pub fn manage_passkeys_url(&self) -> Url {
        let mut url = self.environment_url.clone();
        url.set_query(None);
        url.set_fragment(None);
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}/ui/profile/passkeys"));
        url
    }
}

/// Is this host a loopback host (127.0.0.0/8, ::1, localhost)?
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn check_web_url(what: &str, url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(url) => {}
        "http" => {
            return Err(Error::Config(format!(
                "The {what} {url} uses http:// on a host that is not this machine; use https://."
            )))
        }
        other => {
            return Err(Error::Config(format!(
                "The {what} {url} must use https:// (not {other}:)."
            )))
        }
    }
    if url.host().is_none() {
        return Err(Error::Config(format!("The {what} {url} has no host.")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "The {what} {url} must not have a query or fragment."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
