//! Tests of the configuration.

use super::*;

const MINIMAL: &str = r#"
    environment_url = "https://acme.scalekit.dev"
    client_id = "ntvc_app"
    upstream_client_id = "skc_broker"
"#;

#[test]
fn client_secret_debug_is_redacted() {
    let secret = ClientSecret::new("hunter2");
    assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
    assert_eq!(secret.secret(), "hunter2");
}

#[test]
fn config_debug_does_not_show_the_secret() {
    let config = Config::from_toml_str(MINIMAL, Some("hunter2".into())).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn secret_comes_from_the_environment() {
    let config = Config::from_toml_str(MINIMAL, Some("from-env".into())).unwrap();
    assert_eq!(config.client_secret.secret(), "from-env");
    assert_eq!(config.issuer(), "https://acme.scalekit.dev");
    assert_eq!(
        config.discovery_endpoint().unwrap().as_str(),
        "https://acme.scalekit.dev/.well-known/openid-configuration"
    );
    assert_eq!(config.api_base().as_str(), "https://acme.scalekit.dev/");
}

#[test]
fn secret_comes_from_a_file() {
    let path = std::env::temp_dir().join(format!("broker-secret-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, "from-file\n").unwrap();
    let text = format!(
        "{MINIMAL}\nclient_secret_file = {:?}\n",
        path.display().to_string()
    );
    let config = Config::from_toml_str(&text, None).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(config.client_secret.secret(), "from-file");
}

#[test]
fn missing_secret_is_a_config_error() {
    let err = Config::from_toml_str(MINIMAL, None).unwrap_err();
    assert!(err.to_string().contains(CLIENT_SECRET_ENV), "{err}");
}

#[test]
fn inline_secret_is_refused() {
    let text = format!("{MINIMAL}\nclient_secret = \"oops\"\n");
    let err = Config::from_toml_str(&text, Some("x".into())).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("must not be in the configuration file"),
        "{message}"
    );
    assert!(!message.contains("oops"));
}

#[test]
fn every_option_is_read() {
    let text = format!(
        r#"{MINIMAL}
        token_endpoint_auth = "client_secret_basic"
        listen = "127.0.0.1:0"
        upstream_api_url = "https://api.example.com/base"
        upstream_timeout_secs = 3
        token_refresh_margin_secs = 5
        jwks_min_refetch_interval_secs = 7
        jwks_max_age_secs = 13
        leeway_secs = 11
        max_body_bytes = 1000
        [rate_limit]
        requests_per_minute = 10
        burst = 2
        "#
    );
    let config = Config::from_toml_str(&text, Some("s".into())).unwrap();
    assert_eq!(
        config.token_endpoint_auth,
        TokenEndpointAuth::ClientSecretBasic
    );
    assert_eq!(config.listen.port(), 0);
    assert_eq!(config.api_base().as_str(), "https://api.example.com/base");
    assert_eq!(config.upstream_timeout, Duration::from_secs(3));
    assert_eq!(config.token_refresh_margin, Duration::from_secs(5));
    assert_eq!(config.jwks_min_refetch_interval, Duration::from_secs(7));
    assert_eq!(config.jwks_max_age, Duration::from_secs(13));
    assert_eq!(config.leeway, Duration::from_secs(11));
    assert_eq!(config.max_body_bytes, 1000);
    assert_eq!(
        config.rate_limit,
        RateLimit {
            requests_per_minute: 10,
            burst: 2
        }
    );
}

#[test]
fn plain_http_is_only_allowed_to_loopback() {
    let cases = [
        ("https://acme.scalekit.dev", true),
        ("http://localhost:8080", true),
        ("http://127.0.0.1:8080", true),
        ("http://[::1]:8080", true),
        ("http://acme.scalekit.dev", false),
        ("ftp://localhost", false),
    ];
    for (url, ok) in cases {
        let config = Config::new(url.parse().unwrap(), "a", "b", ClientSecret::new("s"));
        assert_eq!(config.validate().is_ok(), ok, "{url}");
    }
}

#[test]
fn zero_rate_limit_is_refused() {
    let mut config = Config::new(
        "https://acme.scalekit.dev".parse().unwrap(),
        "a",
        "b",
        ClientSecret::new("s"),
    );
    config.rate_limit.burst = 0;
    assert!(config.validate().is_err());
}
