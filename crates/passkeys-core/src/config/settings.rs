//! What the configuration says, read once: an environment, or nothing (the
//! app then runs its local environment) with the settings that still apply.

use url::Url;

use super::Config;
use crate::error::Result;

/// The outcome of reading the config file and the environment.
#[derive(Debug, Clone)]
pub enum Settings {
    /// An environment (and client) is configured.
    Environment(Box<Config>),
    /// Nothing is configured: the app runs its local environment, with these
    /// settings from the same file and variables.
    Local(LocalSettings),
}

impl Settings {
    /// The environment's configuration, if one is configured.
    pub fn environment(self) -> Option<Config> {
        match self {
            Settings::Environment(config) => Some(*config),
            Settings::Local(_) => None,
        }
    }
}

/// The settings that apply without an environment (`browser`,
/// `keychain_service`, or `PASSKEYS_BROWSER`, `PASSKEYS_KEYCHAIN_SERVICE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalSettings {
    /// The browser command line, if set.
    pub browser_command: Option<String>,
    /// The keychain service name, if set.
    pub keychain_service: Option<String>,
}

impl LocalSettings {
    /// The configuration of a local environment: sign-in at
    /// `environment_url` as `client_id`, passkeys through the broker at
    /// `broker_url`, with these settings.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when [`Config::validate`] fails.
    pub fn config_for(
        &self,
        environment_url: Url,
        client_id: &str,
        broker_url: Url,
    ) -> Result<Config> {
        let mut config = Config::new(environment_url, client_id);
        config.set_api_url(broker_url);
        config.browser_command = self.browser_command.clone();
        if let Some(service) = &self.keychain_service {
            config.keychain_service = service.clone();
        }
        config.validate()?;
        Ok(config)
    }
}
