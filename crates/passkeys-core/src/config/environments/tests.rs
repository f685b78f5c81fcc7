use std::collections::HashMap;
use std::io::Write as _;

use super::*;
use crate::config::RedirectMode;

fn load(text: &str, vars: &[(&str, &str)]) -> Result<Environments> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Config::load_environments_from(Some(file.path()), |name| vars.get(name).cloned())
}

fn names(environments: &Environments) -> Vec<&str> {
    environments.list.iter().map(|e| e.name.as_str()).collect()
}

fn configured(environment: &NamedEnvironment) -> &Config {
    match &environment.kind {
        EnvironmentKind::Configured(config) => config,
        EnvironmentKind::LocalEmulator(_) => panic!("{} is the emulator", environment.name),
    }
}

#[test]
fn nothing_configured_is_the_local_environment() {
    let environments = load("", &[]).unwrap();
    assert_eq!(names(&environments), ["local"]);
    assert!(matches!(
        environments.list[0].kind,
        EnvironmentKind::LocalEmulator(_)
    ));
}

#[test]
fn a_single_environment_file_keeps_working_as_default() {
    let text = "environment_url = \"https://acme.scalekit.dev\"\nclient_id = \"ntvc_1\"\napi_url = \"https://broker.acme.dev\"\n";
    let environments = load(text, &[]).unwrap();
    assert_eq!(names(&environments), ["default"]);
    let config = configured(&environments.list[0]);
    assert_eq!(config.client_id, "ntvc_1");
    assert_eq!(
        config.api_url().unwrap().as_str(),
        "https://broker.acme.dev/"
    );
    // And load_settings still reads it as it did
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let settings = Config::load_settings_from(Some(file.path()), |_| None).unwrap();
    assert_eq!(settings.environment().unwrap(), *config);
}

#[test]
fn variables_configure_the_default_environment() {
    let environments = load(
        "[environments.local]\nemulator = true\n",
        &[
            ("PASSKEYS_ENV_URL", "http://localhost:4000"),
            ("PASSKEYS_CLIENT_ID", "ntvc_env"),
        ],
    )
    .unwrap();
    assert_eq!(names(&environments), ["default", "local"]);
    assert_eq!(configured(&environments.list[0]).client_id, "ntvc_env");
}

#[test]
fn named_environments_share_the_top_level_settings() {
    let text = r#"
browser = "chromium {url}"
keychain_service = "test.service"

[environments.work]
environment_url = "https://work.scalekit.dev"
client_id = "ntvc_work"
api_url = "https://broker.work.dev"

[environments.local]
emulator = true

[environments.other]
environment_url = "http://127.0.0.1:4001"
client_id = "ntvc_other"
redirect = "loopback:53682"
"#;
    let environments = load(text, &[]).unwrap();
    assert_eq!(names(&environments), ["local", "other", "work"]);
    let work = configured(environments.get("work").unwrap());
    assert_eq!(work.browser_command.as_deref(), Some("chromium {url}"));
    assert_eq!(work.keychain_service, "test.service");
    assert_eq!(work.api_url().unwrap().host_str(), Some("broker.work.dev"));
    let other = configured(environments.get("other").unwrap());
    assert_eq!(other.redirect, RedirectMode::Loopback { port: 53682 });
    assert!(other.api.is_none());
    match &environments.get("local").unwrap().kind {
        EnvironmentKind::LocalEmulator(local) => {
            assert_eq!(local.keychain_service.as_deref(), Some("test.service"));
        }
        EnvironmentKind::Configured(_) => panic!("local is the emulator"),
    }
    // load_settings names the first one, as the doctor checks it
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let settings = Config::load_settings_from(Some(file.path()), |_| None).unwrap();
    assert!(matches!(settings, Settings::Local(_)), "{settings:?}");
}

#[test]
fn bad_environment_tables_are_refused() {
    let table = [
        ("[environments.\"a b\"]\nemulator = true\n", "must be 1 to 40"),
        ("[environments.\"ada@example.com\"]\nemulator = true\n", "must be 1 to 40"),
        ("[environments.work]\nclient_id = \"ntvc_1\"\n", "no environment URL"),
        ("[environments.work]\nredirect = \"loopback\"\n", "needs environment_url"),
        (
            "[environments.local]\nemulator = true\nclient_id = \"x\"\n",
            "takes no environment_url",
        ),
        (
            "[environments.a]\nemulator = true\n[environments.b]\nemulator = true\n",
            "both the local emulator",
        ),
        (
            "[environments.a]\nenvironment_url = \"https://a.dev\"\nclient_id = \"c\"\n[environments.b]\nenvironment_url = \"https://a.dev\"\nclient_id = \"c\"\n",
            "the same environment and client",
        ),
        (
            "environment_url = \"https://a.dev\"\nclient_id = \"c\"\n[environments.default]\nemulator = true\n",
            "top-level environment's",
        ),
        ("[environments.work]\nsecret = \"x\"\n", "unknown field"),
    ];
    for (text, message) in table {
        let error = load(text, &[]).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Config, "{text}");
        assert!(error.to_string().contains(message), "{text}: {error}");
    }
}
