use std::collections::HashMap;

use super::*;

fn config(url: &str) -> Config {
    Config::new(Url::parse(url).unwrap(), "ntvc_demo")
}

#[test]
fn http_only_on_loopback_hosts() {
    let table = [
        ("https://acme.scalekit.dev", true),
        ("http://localhost:8080", true),
        ("http://LOCALHOST:8080", true),
        ("http://127.0.0.1:8080", true),
        ("http://127.1.2.3", true),
        ("http://[::1]:8080", true),
        ("http://acme.scalekit.dev", false),
        ("http://localhost.evil.example", false),
        ("http://10.0.0.1", false),
        ("http://[::2]", false),
        ("ftp://acme.scalekit.dev", false),
        ("https://acme.scalekit.dev/?x=1", false),
    ];
    for (url, ok) in table {
        let result = config(url).validate();
        assert_eq!(result.is_ok(), ok, "{url}: {result:?}");
        if let Err(error) = result {
            assert_eq!(error.kind(), crate::ErrorKind::Config);
        }
    }
}

#[test]
fn other_checks() {
    let mut bad_api = config("https://acme.scalekit.dev");
    bad_api.set_api_url(Url::parse("http://broker.example").unwrap());
    assert!(bad_api.validate().is_err());
    let good_api = config("https://acme.scalekit.dev")
        .with_api_url(Url::parse("https://broker.example").unwrap());
    good_api.validate().unwrap();

    let mut no_openid = config("https://acme.scalekit.dev");
    no_openid.scopes = vec!["email".into()];
    assert!(no_openid.validate().is_err());

    let mut web_deep_link = config("https://acme.scalekit.dev");
    web_deep_link.redirect = RedirectMode::DeepLink {
        redirect_uri: Url::parse("https://acme.example/callback").unwrap(),
    };
    assert!(web_deep_link.validate().is_err());

    let mut empty_client = config("https://acme.scalekit.dev");
    empty_client.client_id = " ".into();
    assert!(empty_client.validate().is_err());

    let mut zero_timeout = config("https://acme.scalekit.dev");
    zero_timeout.sign_in_timeout = Duration::ZERO;
    assert!(zero_timeout.validate().is_err());
}

fn load(file: Option<&str>, vars: &[(&str, &str)]) -> Result<Option<Config>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    if let Some(text) = file {
        std::fs::write(&path, text).unwrap();
    }
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::load_from(Some(&path), |name| vars.get(name).cloned())
}

#[test]
fn nothing_configured_is_none() {
    assert_eq!(load(None, &[]).unwrap(), None);
}

#[test]
fn file_then_environment_overrides() {
    let file = r#"
environment_url = "https://acme.scalekit.dev"
client_id = "ntvc_file"
redirect = "deeplink"
sign_in_timeout_secs = 60
"#;
    let from_file = load(Some(file), &[]).unwrap().unwrap();
    assert_eq!(from_file.client_id, "ntvc_file");
    assert_eq!(
        from_file.redirect,
        RedirectMode::DeepLink {
            redirect_uri: Url::parse(DEFAULT_DEEP_LINK_REDIRECT_URI).unwrap()
        }
    );
    assert_eq!(from_file.sign_in_timeout, Duration::from_secs(60));
    assert_eq!(from_file.api, None, "no broker unless one is configured");
    assert_eq!(from_file.api_url(), None);
    assert_eq!(from_file.scopes, DEFAULT_SCOPES);
    assert_eq!(
        from_file
            .effective_post_logout_redirect_uri()
            .unwrap()
            .as_str(),
        "dev.passkeys.desktop:/signed-out"
    );

    let overridden = load(
        Some(file),
        &[
            ("PASSKEYS_CLIENT_ID", "ntvc_env"),
            ("PASSKEYS_REDIRECT", "loopback:8765"),
            ("PASSKEYS_API_URL", "https://broker.example/"),
            ("PASSKEYS_BROWSER", "chromium {url}"),
            ("PASSKEYS_KEYCHAIN_SERVICE", "test.service"),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(overridden.client_id, "ntvc_env");
    assert_eq!(overridden.redirect, RedirectMode::Loopback { port: 8765 });
    assert_eq!(
        overridden.api,
        Some(ApiConfig::new(
            Url::parse("https://broker.example/").unwrap()
        ))
    );
    assert_eq!(
        overridden.api_url().map(Url::as_str),
        Some("https://broker.example/")
    );
    assert_eq!(
        overridden.browser_command.as_deref(),
        Some("chromium {url}")
    );
    assert_eq!(overridden.keychain_service, "test.service");
    assert_eq!(overridden.effective_post_logout_redirect_uri(), None);
}

#[test]
fn environment_alone_is_enough() {
    let config = load(
        None,
        &[
            ("PASSKEYS_ENV_URL", "http://localhost:4000"),
            ("PASSKEYS_CLIENT_ID", "ntvc_demo"),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(config.redirect, RedirectMode::Loopback { port: 0 });
    assert_eq!(config.api, None);
    assert_eq!(
        config.manage_passkeys_url().as_str(),
        "http://localhost:4000/ui/profile/passkeys"
    );
}

#[test]
fn new_has_no_broker_and_the_redirect_for_its_host() {
    let remote = config("https://acme.scalekit.dev/");
    assert_eq!(remote.api, None);
    assert_eq!(
        remote.redirect,
        RedirectMode::default_for(&remote.environment_url)
    );
    assert_eq!(
        remote.manage_passkeys_url().as_str(),
        "https://acme.scalekit.dev/ui/profile/passkeys"
    );
    let mut local = config("http://127.0.0.1:4000");
    assert_eq!(local.redirect, RedirectMode::Loopback { port: 0 });
    local.set_api_url(Url::parse("http://127.0.0.1:8787/").unwrap());
    assert_eq!(
        local.api_url().map(Url::as_str),
        Some("http://127.0.0.1:8787/")
    );
}

#[test]
fn default_redirect_is_the_deep_link_except_on_this_machine() {
    let deep_link = RedirectMode::DeepLink {
        redirect_uri: Url::parse(DEFAULT_DEEP_LINK_REDIRECT_URI).unwrap(),
    };
    let loopback = RedirectMode::Loopback { port: 0 };
    let table = [
        ("https://acme.scalekit.dev", &deep_link),
        ("https://acme.scalekit.com:8443/tenant", &deep_link),
        ("https://localhost.evil.example", &deep_link),
        ("https://10.0.0.1", &deep_link),
        ("http://localhost:4000", &loopback),
        ("http://LOCALHOST:4000", &loopback),
        ("https://localhost", &loopback),
        ("http://127.0.0.1:4000", &loopback),
        ("http://127.9.9.9", &loopback),
        ("http://[::1]:4000", &loopback),
    ];
    for (url, expected) in table {
        assert_eq!(
            &RedirectMode::default_for(&Url::parse(url).unwrap()),
            expected,
            "{url}"
        );
        let loaded = load(
            None,
            &[("PASSKEYS_ENV_URL", url), ("PASSKEYS_CLIENT_ID", "ntvc_1")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(&loaded.redirect, expected, "{url} loaded");
    }
}

#[test]
fn default_deep_link_uses_the_configured_uri_and_signs_out_to_its_scheme() {
    // Given a remote environment, a custom deep-link URI and no redirect mode
    let file = r#"
environment_url = "https://acme.scalekit.dev"
client_id = "ntvc_file"
deep_link_redirect_uri = "com.example.app:/callback"
"#;

    // When the configuration is loaded
    let config = load(Some(file), &[]).unwrap().unwrap();

    // Then sign-in comes back by that deep link, sign-out to <scheme>:/signed-out
    assert_eq!(
        config.redirect,
        RedirectMode::DeepLink {
            redirect_uri: Url::parse("com.example.app:/callback").unwrap()
        }
    );
    assert_eq!(config.deep_link_scheme(), "com.example.app");
    assert_eq!(
        config
            .effective_post_logout_redirect_uri()
            .map(|url| url.to_string()),
        Some("com.example.app:/signed-out".to_string())
    );

    // And a loopback environment with the same file still uses the loopback
    let local = load(Some(file), &[("PASSKEYS_ENV_URL", "http://[::1]:4000")])
        .unwrap()
        .unwrap();
    assert_eq!(local.redirect, RedirectMode::Loopback { port: 0 });
    assert_eq!(local.effective_post_logout_redirect_uri(), None);
}

#[test]
fn bad_configurations_are_refused() {
    type Vars<'a> = Vec<(&'a str, &'a str)>;
    let table: Vec<(Option<&str>, Vars)> = vec![
        (
            None,
            vec![("PASSKEYS_ENV_URL", "https://acme.scalekit.dev")],
        ),
        (None, vec![("PASSKEYS_CLIENT_ID", "ntvc_1")]),
        (
            None,
            vec![
                ("PASSKEYS_ENV_URL", "http://acme.scalekit.dev"),
                ("PASSKEYS_CLIENT_ID", "ntvc_1"),
            ],
        ),
        (
            None,
            vec![
                ("PASSKEYS_ENV_URL", "https://acme.scalekit.dev"),
                ("PASSKEYS_CLIENT_ID", "ntvc_1"),
                ("PASSKEYS_REDIRECT", "loopback:99999"),
            ],
        ),
        (
            None,
            vec![
                ("PASSKEYS_ENV_URL", "not a url"),
                ("PASSKEYS_CLIENT_ID", "ntvc_1"),
            ],
        ),
        (Some("environment_url = 3"), vec![]),
        (
            Some("environment_url = \"https://a.example\"\nclient_id = \"x\"\nunknown = 1"),
            vec![],
        ),
    ];
    for (file, vars) in table {
        let error = load(file, &vars).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Config, "{file:?} {vars:?}");
    }
}

#[test]
fn deep_link_scheme_follows_the_redirect_uri() {
    let mut config = config("https://acme.scalekit.dev");
    assert_eq!(config.deep_link_scheme(), "dev.passkeys.desktop");
    config.redirect = RedirectMode::DeepLink {
        redirect_uri: Url::parse("com.example.app:/callback").unwrap(),
    };
    assert_eq!(config.deep_link_scheme(), "com.example.app");
}

#[test]
fn nothing_configured_keeps_the_local_settings_read_once() {
    // Given a config file with only a browser, and the keychain service in
    // the environment
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "browser = \"firefox {url}\"\n").unwrap();
    let env =
        |name: &str| (name == "PASSKEYS_KEYCHAIN_SERVICE").then(|| "custom-service".to_owned());
    // When the settings are read
    let settings = Config::load_settings_from(Some(&path), env).unwrap();
    // Then nothing is configured, and both settings are kept for the local environment
    let Settings::Local(local) = settings else {
        panic!("nothing was configured")
    };
    assert_eq!(local.browser_command.as_deref(), Some("firefox {url}"));
    assert_eq!(local.keychain_service.as_deref(), Some("custom-service"));
    let config = local
        .config_for(
            Url::parse("http://localhost:47811").unwrap(),
            "ntvc_demo",
            Url::parse("http://127.0.0.1:40000").unwrap(),
        )
        .unwrap();
    assert_eq!(config.browser_command.as_deref(), Some("firefox {url}"));
    assert_eq!(config.keychain_service, "custom-service");
    assert_eq!(
        config.api_url().map(Url::as_str),
        Some("http://127.0.0.1:40000/")
    );
    // And an empty service name is refused, as in a configured environment
    let empty = LocalSettings {
        keychain_service: Some(" ".into()),
        ..LocalSettings::default()
    };
    assert!(empty
        .config_for(
            Url::parse("http://localhost:47811").unwrap(),
            "ntvc_demo",
            Url::parse("http://127.0.0.1:40000").unwrap()
        )
        .is_err());
}
