//! The config file and the variables that override it, read into a
//! [`Config`] (or the local settings when nothing is configured).

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::{
    environments, is_loopback_host, Config, LocalSettings, RedirectMode, Settings,
    DEFAULT_DEEP_LINK_REDIRECT_URI,
};
use crate::error::{Error, Result};

/// The on-disk file; every field optional so environment variables can fill in.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) environment_url: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) scopes: Option<Vec<String>>,
    pub(super) redirect: Option<String>,
    pub(super) deep_link_redirect_uri: Option<String>,
    pub(super) api_url: Option<String>,
    pub(super) browser: Option<String>,
    pub(super) keychain_service: Option<String>,
    pub(super) sign_in_timeout_secs: Option<u64>,
    pub(super) post_logout_redirect_uri: Option<String>,
    /// Named environments (`[environments.NAME]`), besides or instead of
    /// the one above: see `environments.rs`.
    pub(super) environments:
        Option<std::collections::BTreeMap<String, environments::FileEnvironment>>,
}

/// Reads the config file (if any) and applies the environment variables.
pub(super) fn read_file(
    path: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<FileConfig> {
    let mut file = match path {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                Error::Config(format!("Could not read {}: {err}", path.display()))
            })?;
            toml::from_str::<FileConfig>(&text).map_err(|err| {
                Error::Config(format!(
                    "{} is not a valid config file: {err}",
                    path.display()
                ))
            })?
        }
        _ => FileConfig::default(),
    };
    let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    override_with(&mut file.environment_url, var("PASSKEYS_ENV_URL"));
    override_with(&mut file.client_id, var("PASSKEYS_CLIENT_ID"));
    override_with(&mut file.redirect, var("PASSKEYS_REDIRECT"));
    override_with(
        &mut file.deep_link_redirect_uri,
        var("PASSKEYS_DEEP_LINK_URI"),
    );
    override_with(&mut file.api_url, var("PASSKEYS_API_URL"));
    override_with(&mut file.browser, var("PASSKEYS_BROWSER"));
    override_with(&mut file.keychain_service, var("PASSKEYS_KEYCHAIN_SERVICE"));
    Ok(file)
}

/// The settings a read file (with its overrides) gives.
pub(super) fn settings_from_file(file: FileConfig) -> Result<Settings> {
    let (environment_url, client_id) = match (file.environment_url, file.client_id) {
            (None, None) => {
                return Ok(Settings::Local(LocalSettings {
                    browser_command: file.browser,
                    keychain_service: file.keychain_service,
                }))
            }
            (Some(url), Some(id)) => (url, id),
            (None, Some(_)) => {
                return Err(Error::Config(
                    "A client id is configured but no environment URL: set environment_url or PASSKEYS_ENV_URL.".into(),
                ))
            }
            (Some(_), None) => {
                return Err(Error::Config(
                    "An environment URL is configured but no client id: set client_id or PASSKEYS_CLIENT_ID.".into(),
                ))
            }
        };
    let mut config = Config::new(parse_url("environment URL", &environment_url)?, client_id);
    if let Some(scopes) = file.scopes {
        config.scopes = scopes;
    }
    if let Some(api_url) = file.api_url {
        config.set_api_url(parse_url("passkeys API URL", &api_url)?);
    }
    let deep_link_uri = file
        .deep_link_redirect_uri
        .unwrap_or_else(|| DEFAULT_DEEP_LINK_REDIRECT_URI.to_string());
    let redirect = match file.redirect {
        Some(redirect) => redirect,
        None if is_loopback_host(&config.environment_url) => "loopback".into(),
        None => "deeplink".into(),
    };
    config.redirect = parse_redirect(&redirect, &deep_link_uri)?;
    config.browser_command = file.browser;
    if let Some(service) = file.keychain_service {
        config.keychain_service = service;
    }
    if let Some(secs) = file.sign_in_timeout_secs {
        config.sign_in_timeout = Duration::from_secs(secs);
    }
    if let Some(uri) = file.post_logout_redirect_uri {
        config.post_logout_redirect_uri = Some(parse_url("post-logout redirect URI", &uri)?);
    }
    config.validate()?;
    Ok(Settings::Environment(Box::new(config)))
}

fn override_with(slot: &mut Option<String>, value: Option<String>) {
    if value.is_some() {
        *slot = value;
    }
}

fn parse_url(what: &str, text: &str) -> Result<Url> {
    Url::parse(text.trim())
        .map_err(|err| Error::Config(format!("The {what} \"{text}\" is not a valid URL: {err}.")))
}

fn parse_redirect(text: &str, deep_link_uri: &str) -> Result<RedirectMode> {
    let text = text.trim();
    match text {
        "loopback" => Ok(RedirectMode::Loopback { port: 0 }),
        "deeplink" | "deep-link" => Ok(RedirectMode::DeepLink {
            redirect_uri: parse_url("deep-link redirect URI", deep_link_uri)?,
        }),
        _ => match text.strip_prefix("loopback:").map(str::parse::<u16>) {
            Some(Ok(port)) => Ok(RedirectMode::Loopback { port }),
            _ => Err(Error::Config(format!(
                "The redirect mode \"{text}\" is not one of loopback, loopback:PORT, deeplink."
            ))),
        },
    }
}
