//! Named environments: the configuration may name several, and an account
//! is signed in to one of them.
//!
//! ```toml
//! # Settings every environment shares stay at the top.
//! browser = "chromium --new-window {url}"
//!
//! [environments.work]
//! environment_url = "https://acme.scalekit.com"
//! client_id = "ntvc_123"
//! api_url = "https://passkeys-broker.acme.example"
//!
//! [environments.local]
//! emulator = true   # the app's own local environment, as on a first run
//! ```
//!
//! A file with only the top-level `environment_url` and `client_id` (and
//! the `PASSKEYS_ENV_URL`… variables) keeps working: that environment is
//! named [`DEFAULT_ENVIRONMENT`]. With nothing configured, the one
//! environment is the local one, named [`LOCAL_ENVIRONMENT`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::{read_file, settings_from_file, Config, FileConfig, LocalSettings, Settings};
use crate::error::{Error, Result};

/// The name of the local environment (the emulator and broker the app
/// starts) when nothing is configured.
pub const LOCAL_ENVIRONMENT: &str = "local";

/// The name of the environment configured by the top-level settings.
pub const DEFAULT_ENVIRONMENT: &str = "default";

/// One `[environments.NAME]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileEnvironment {
    /// `true`: the app's local environment (no other key allowed).
    emulator: Option<bool>,
    environment_url: Option<String>,
    client_id: Option<String>,
    redirect: Option<String>,
    deep_link_redirect_uri: Option<String>,
    api_url: Option<String>,
    post_logout_redirect_uri: Option<String>,
}

/// What a named environment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvironmentKind {
    /// An environment (and client) configured in full.
    Configured(Box<Config>),
    /// The app's local environment: the emulator and the broker it starts,
    /// with these settings.
    LocalEmulator(LocalSettings),
}

/// An environment with the name the configuration gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedEnvironment {
    /// The name (`work`, `local`, …): what `--account` and the switcher show.
    pub name: String,
    /// Its configuration.
    pub kind: EnvironmentKind,
}

/// Every environment the configuration names, in the file's order of names
/// (the top-level one first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environments {
    /// At least one.
    pub list: Vec<NamedEnvironment>,
}

impl Config {
    /// Reads the config file and the environment once: every named
    /// environment.
    ///
    /// # Errors
    /// As [`Config::load`], and [`Error::Config`] for a bad environment name,
    /// an incomplete table, or two names for one (environment, client).
    pub fn load_environments() -> Result<Environments> {
        let path = Config::default_path();
        Config::load_environments_from(path.as_deref(), |name| std::env::var(name).ok())
    }

    /// Like [`Config::load_environments`] with an explicit file and variable lookup.
    ///
    /// # Errors
    /// As [`Config::load_environments`].
    pub fn load_environments_from(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Environments> {
        let mut file = read_file(path, env)?;
        let tables = file.environments.take().unwrap_or_default();
        let mut list = Vec::new();
        let top_level = file.environment_url.is_some() || file.client_id.is_some();
        if top_level || tables.is_empty() {
            let name = if top_level {
                DEFAULT_ENVIRONMENT
            } else {
                LOCAL_ENVIRONMENT
            };
            list.push(named(name.to_owned(), shared(&file, None))?);
        }
        list.extend(from_tables(tables, &file)?);
        check_distinct(&list)?;
        Ok(Environments { list })
    }
}

impl Environments {
    /// The environment called `name`.
    pub fn get(&self, name: &str) -> Option<&NamedEnvironment> {
        self.list
            .iter()
            .find(|environment| environment.name == name)
    }
}

/// The settings of table `name`, as [`Config::load_settings`] gives them
/// for a file with only named environments (the first one).
pub(super) fn settings_of(
    name: String,
    table: FileEnvironment,
    file: &FileConfig,
) -> Result<Settings> {
    Ok(match named(name, shared(file, Some(table)))?.kind {
        EnvironmentKind::Configured(config) => Settings::Environment(config),
        EnvironmentKind::LocalEmulator(local) => Settings::Local(local),
    })
}

fn from_tables(
    tables: BTreeMap<String, FileEnvironment>,
    file: &FileConfig,
) -> Result<Vec<NamedEnvironment>> {
    tables
        .into_iter()
        .map(|(name, table)| {
            if name == DEFAULT_ENVIRONMENT {
                return Err(Error::Config(format!(
                    "The environment name \"{DEFAULT_ENVIRONMENT}\" is the top-level environment's; choose another."
                )));
            }
            if table.emulator == Some(true)
                && (table.environment_url.is_some() || table.client_id.is_some())
            {
                return Err(Error::Config(format!(
                    "The environment \"{name}\" is the local emulator: it takes no environment_url or client_id."
                )));
            }
            named(name, shared(file, Some(table)))
        })
        .collect()
}

/// A file with the shared settings of `file` and the environment's own
/// (the top-level ones when `table` is `None`).
fn shared(file: &FileConfig, table: Option<FileEnvironment>) -> (FileConfig, bool) {
    let base = FileConfig {
        scopes: file.scopes.clone(),
        browser: file.browser.clone(),
        keychain_service: file.keychain_service.clone(),
        sign_in_timeout_secs: file.sign_in_timeout_secs,
        ..FileConfig::default()
    };
    match table {
        None => (
            FileConfig {
                environment_url: file.environment_url.clone(),
                client_id: file.client_id.clone(),
                redirect: file.redirect.clone(),
                deep_link_redirect_uri: file.deep_link_redirect_uri.clone(),
                api_url: file.api_url.clone(),
                post_logout_redirect_uri: file.post_logout_redirect_uri.clone(),
                ..base
            },
            false,
        ),
        Some(table) => (
            FileConfig {
                environment_url: table.environment_url,
                client_id: table.client_id,
                redirect: table.redirect,
                deep_link_redirect_uri: table.deep_link_redirect_uri,
                api_url: table.api_url,
                post_logout_redirect_uri: table.post_logout_redirect_uri,
                ..base
            },
            table.emulator == Some(true),
        ),
    }
}

fn named(name: String, (file, emulator): (FileConfig, bool)) -> Result<NamedEnvironment> {
    check_name(&name)?;
    let incomplete = file.environment_url.is_none() && file.client_id.is_none() && !emulator;
    if incomplete && name != LOCAL_ENVIRONMENT {
        return Err(Error::Config(format!(
            "The environment \"{name}\" needs environment_url and client_id (or emulator = true)."
        )));
    }
    let kind = match settings_from_file(file)? {
        Settings::Environment(config) => EnvironmentKind::Configured(config),
        Settings::Local(local) => EnvironmentKind::LocalEmulator(local),
    };
    Ok(NamedEnvironment { name, kind })
}

/// A name that `--account NAME|EMAIL` can tell from an email address.
fn check_name(name: &str) -> Result<()> {
    let fine = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'));
    if fine {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "The environment name \"{name}\" must be 1 to 40 letters, digits, '-', '_' or '.'."
        )))
    }
}

/// An account is (environment, client, user): one (environment, client)
/// must have one name, and there is one local environment.
fn check_distinct(list: &[NamedEnvironment]) -> Result<()> {
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    let mut local = None;
    for environment in list {
        match &environment.kind {
            EnvironmentKind::Configured(config) => {
                let key = (config.environment_url.as_str(), config.client_id.as_str());
                if let Some((_, _, other)) = seen.iter().find(|(url, id, _)| (*url, *id) == key) {
                    return Err(Error::Config(format!(
                        "The environments \"{other}\" and \"{}\" name the same environment and client; keep one.",
                        environment.name
                    )));
                }
                seen.push((key.0, key.1, &environment.name));
            }
            EnvironmentKind::LocalEmulator(_) => {
                if let Some(other) = local.replace(&environment.name) {
                    return Err(Error::Config(format!(
                        "The environments \"{other}\" and \"{}\" are both the local emulator; keep one.",
                        environment.name
                    )));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
