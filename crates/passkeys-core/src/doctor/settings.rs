//! The configuration: the file parses, and where each setting comes from
//! (the file, an environment variable, or the default).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Check;
use crate::config::{Config, EnvironmentKind, RedirectMode};

/// Every setting: its name in the file and its environment variable, if any.
const SETTINGS: &[(&str, Option<&str>)] = &[
    ("environment_url", Some("PASSKEYS_ENV_URL")),
    ("client_id", Some("PASSKEYS_CLIENT_ID")),
    ("redirect", Some("PASSKEYS_REDIRECT")),
    ("deep_link_redirect_uri", Some("PASSKEYS_DEEP_LINK_URI")),
    ("api_url", Some("PASSKEYS_API_URL")),
    ("browser", Some("PASSKEYS_BROWSER")),
    ("keychain_service", Some("PASSKEYS_KEYCHAIN_SERVICE")),
    ("scopes", None),
    ("sign_in_timeout_secs", None),
    ("post_logout_redirect_uri", None),
];

/// Where a setting's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Source {
    /// The configuration file.
    File {
        /// Its path.
        path: PathBuf,
    },
    /// An environment variable (which wins over the file).
    Environment {
        /// Its name.
        variable: &'static str,
    },
    /// Nobody set it.
    Default,
}

/// One setting, its value and its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// Its name in the file.
    pub name: &'static str,
    /// Its effective value, when there is one (none is secret).
    pub value: Option<String>,
    /// Where it comes from.
    pub source: Source,
}

/// The configuration as the doctor read it.
#[derive(Debug, Clone)]
pub struct ConfigInspection {
    /// The `config` check.
    pub check: Check,
    /// Every setting and its source.
    pub settings: Vec<Setting>,
    /// The configuration, when one loads (`None` when nothing is configured
    /// or it does not load).
    pub config: Option<Config>,
}

/// Reads the configuration as [`Config::load_from`] does, and tells where
/// each setting comes from.
pub fn inspect_config(
    path: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> ConfigInspection {
    let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let file: Option<toml::Table> = path
        .filter(|path| path.exists())
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| text.parse::<toml::Table>().ok());
    let loaded = Config::load_from(path, var);
    let config = loaded.as_ref().ok().cloned().flatten();
    let settings = SETTINGS
        .iter()
        .map(|&(name, variable)| {
            let from_env =
                variable.and_then(|variable| var(variable).map(|value| (variable, value)));
            let from_file = file.as_ref().and_then(|table| table.get(name));
            let source = match (from_env, from_file, path) {
                (Some((variable, _)), _, _) => Source::Environment { variable },
                (None, Some(_), Some(path)) => Source::File {
                    path: path.to_owned(),
                },
                _ => Source::Default,
            };
            let value = match &config {
                Some(config) => effective(config, name),
                None => variable.and_then(&var).or_else(|| {
                    from_file.map(|value| {
                        value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_owned)
                    })
                }),
            };
            Setting {
                name,
                value,
                source,
            }
        })
        .collect();
    let shown = path.map_or_else(
        || "(no config path)".to_owned(),
        |path| path.display().to_string(),
    );
    let named = configured_environments(path, &var);
    let check = match loaded {
        Ok(Some(config)) => {
            let source = if file.is_some() {
                shown.as_str()
            } else {
                "The configuration in the environment variables"
            };
            let detail = match named.as_slice() {
                [first, _, ..] => format!(
                    "{source} parses: {} environments, {}. The settings listed are {}'s.",
                    named.len(),
                    named
                        .iter()
                        .map(|(name, config)| format!("{name} ({})", describe(config)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    first.0
                ),
                _ => format!("{source} parses: {}.", describe(&config)),
            };
            Check::ok("config", detail)
        }
        Ok(None) => Check::ok(
            "config",
            format!("Nothing configured ({shown} does not exist, no PASSKEYS_ENV_URL): the app runs its own local environment, the emulator and the passkeys broker."),
        ),
        Err(error) => Check::fail(
            "config",
            error.to_string(),
            format!("Correct {shown} (or the PASSKEYS_* variables named above); the README's \"Pointing it at a real Scalekit environment\" lists every setting."),
        ),
    };
    ConfigInspection {
        check,
        settings,
        config,
    }
}

/// Every environment the configuration names with its name, in the file's
/// order (none when it does not load: the check above says why).
fn configured_environments(
    path: Option<&Path>,
    var: &impl Fn(&str) -> Option<String>,
) -> Vec<(String, Config)> {
    Config::load_environments_from(path, var)
        .map(|environments| {
            environments
                .list
                .into_iter()
                .filter_map(|named| match named.kind {
                    EnvironmentKind::Configured(config) => Some((named.name, *config)),
                    EnvironmentKind::LocalEmulator(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// "environment https://…, client ntvc_…".
fn describe(config: &Config) -> String {
    format!(
        "environment {}, client {}",
        config.environment_url.as_str().trim_end_matches('/'),
        config.client_id
    )
}

/// Gives the settings without a value `config`'s (the local environment's,
/// when nothing is configured).
pub(super) fn fill_from(settings: &mut [Setting], config: &Config) {
    for setting in settings
        .iter_mut()
        .filter(|setting| setting.value.is_none())
    {
        setting.value = effective(config, setting.name);
    }
}

/// The value `config` uses for the setting `name`.
fn effective(config: &Config, name: &str) -> Option<String> {
    let url = |url: &url::Url| url.as_str().trim_end_matches('/').to_owned();
    match name {
        "environment_url" => Some(url(&config.environment_url)),
        "client_id" => Some(config.client_id.clone()),
        "redirect" => Some(match &config.redirect {
            RedirectMode::Loopback { port: 0 } => "loopback".to_owned(),
            RedirectMode::Loopback { port } => format!("loopback:{port}"),
            RedirectMode::DeepLink { .. } => "deeplink".to_owned(),
        }),
        "deep_link_redirect_uri" => match &config.redirect {
            RedirectMode::DeepLink { redirect_uri } => Some(redirect_uri.to_string()),
            RedirectMode::Loopback { .. } => None,
        },
        "api_url" => config.api_url().map(url),
        "browser" => config.browser_command.clone(),
        "keychain_service" => Some(config.keychain_service.clone()),
        "scopes" => Some(config.scopes.join(" ")),
        "sign_in_timeout_secs" => Some(config.sign_in_timeout.as_secs().to_string()),
        "post_logout_redirect_uri" => config
            .effective_post_logout_redirect_uri()
            .map(|uri| uri.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    fn source_of<'a>(inspection: &'a ConfigInspection, name: &str) -> &'a Source {
        &inspection
            .settings
            .iter()
            .find(|setting| setting.name == name)
            .unwrap()
            .source
    }

    #[test]
    fn every_setting_names_its_source() {
        // Given a file with the environment and a variable overriding the client
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "environment_url = \"https://acme.scalekit.com\"\nclient_id = \"ntvc_file\"\nsign_in_timeout_secs = 60\n",
        )
        .unwrap();
        let env = |name: &str| (name == "PASSKEYS_CLIENT_ID").then(|| "ntvc_env".to_owned());
        // When the doctor reads it
        let inspection = inspect_config(Some(&path), env);
        // Then each setting says where it comes from
        assert_eq!(
            inspection.check.verdict,
            Verdict::Ok,
            "{:?}",
            inspection.check
        );
        let file = Source::File { path: path.clone() };
        assert_eq!(source_of(&inspection, "environment_url"), &file);
        assert_eq!(source_of(&inspection, "sign_in_timeout_secs"), &file);
        assert_eq!(
            source_of(&inspection, "client_id"),
            &Source::Environment {
                variable: "PASSKEYS_CLIENT_ID"
            }
        );
        assert_eq!(source_of(&inspection, "keychain_service"), &Source::Default);
        let client = inspection
            .settings
            .iter()
            .find(|s| s.name == "client_id")
            .unwrap();
        assert_eq!(client.value.as_deref(), Some("ntvc_env"));
        assert_eq!(inspection.settings.len(), SETTINGS.len());
    }

    #[test]
    fn every_listed_setting_is_one_the_file_accepts() {
        // The file refuses unknown keys: a file setting every listed one parses.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let text = "environment_url = \"https://acme.scalekit.com\"\nclient_id = \"ntvc_1\"\nredirect = \"deeplink\"\ndeep_link_redirect_uri = \"dev.passkeys.desktop:/callback\"\napi_url = \"https://broker.example.com\"\nbrowser = \"firefox\"\nkeychain_service = \"svc\"\nscopes = [\"openid\"]\nsign_in_timeout_secs = 5\npost_logout_redirect_uri = \"dev.passkeys.desktop:/signed-out\"\n";
        std::fs::write(&path, text).unwrap();
        let inspection = inspect_config(Some(&path), |_| None);
        assert_eq!(
            inspection.check.verdict,
            Verdict::Ok,
            "{:?}",
            inspection.check
        );
        for setting in &inspection.settings {
            assert_eq!(
                setting.source,
                Source::File { path: path.clone() },
                "{setting:?}"
            );
            assert!(text.contains(&format!("{} =", setting.name)), "{setting:?}");
        }
    }

    #[test]
    fn a_file_with_several_environments_names_each_and_whose_settings_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[environments.east]\nenvironment_url = \"https://east.example.com\"\nclient_id = \"ntvc_east\"\n\n\
             [environments.west]\nenvironment_url = \"https://west.example.com/\"\nclient_id = \"ntvc_west\"\n",
        )
        .unwrap();
        let inspection = inspect_config(Some(&path), |_| None);
        assert_eq!(inspection.check.verdict, Verdict::Ok);
        assert_eq!(
            inspection.check.detail,
            format!(
                "{} parses: 2 environments, east (environment https://east.example.com, client ntvc_east), \
                 west (environment https://west.example.com, client ntvc_west). The settings listed are east's.",
                path.display()
            )
        );
        let client = inspection
            .settings
            .iter()
            .find(|s| s.name == "client_id")
            .unwrap();
        assert_eq!(client.value.as_deref(), Some("ntvc_east"));
    }

    #[test]
    fn a_file_that_does_not_parse_fails_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "environment_url = \"https://acme.scalekit.com\"\nclient_idd = \"x\"\n",
        )
        .unwrap();
        let inspection = inspect_config(Some(&path), |_| None);
        assert_eq!(inspection.check.verdict, Verdict::Fail);
        assert!(
            inspection.check.detail.contains("client_idd"),
            "{:?}",
            inspection.check
        );
        assert!(inspection.check.fix.as_deref().unwrap().contains("Correct"));
        assert!(inspection.config.is_none());
    }

    #[test]
    fn nothing_configured_is_the_local_environment() {
        let dir = tempfile::tempdir().unwrap();
        let inspection = inspect_config(Some(&dir.path().join("none.toml")), |_| None);
        assert_eq!(inspection.check.verdict, Verdict::Ok);
        assert!(inspection.check.detail.contains("local environment"));
        assert!(inspection
            .settings
            .iter()
            .all(|s| s.source == Source::Default));
    }
}
