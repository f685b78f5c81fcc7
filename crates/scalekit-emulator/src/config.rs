//! Emulator configuration: listen address, storage, registered clients,
//! lifetimes. Read from TOML (see `emulator.example.toml`) or built in code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::secret::{random_token, AdminToken, ClientSecret};

/// The demo confidential client (client-credentials grant).
pub const DEMO_CONFIDENTIAL_CLIENT: &str = "skc_demo";

/// The demo confidential client's secret in [`Config::for_tests`] only: a
/// known value for in-process tests (it is the value the binary's demo client
/// once had, so tests of other crates keep working). The binary never uses
/// it: its demo client gets a random secret, or the one in
/// `--client-secret-file`.
pub const TEST_CLIENT_SECRET: &str = "demo-secret";

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// An SQLite file that survives restarts.
    File(PathBuf),
    /// A private in-memory database, gone when the emulator stops.
    InMemory,
}

/// Where dev-mailbox messages are echoed besides the `/_dev/mailbox` route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailSink {
    /// One `mailbox: …` line per message on stdout (the binary).
    Stdout,
    /// A `tracing` event per message (tests, the embedded app).
    Log,
}

/// The kind of a registered client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// A public client (`ntvc_…`): no secret, PKCE S256 required.
    Native,
    /// A confidential client with a secret (client-credentials grant).
    Confidential,
}

/// One registered OAuth client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The client id, e.g. `ntvc_demo`.
    pub id: String,
    /// Public or confidential.
    pub kind: ClientKind,
    /// The secret of a confidential client.
    pub secret: Option<ClientSecret>,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where `/oidc/logout` may send the browser afterwards.
    pub post_logout_redirect_uris: Vec<String>,
    /// RFC 8252 §7.3: accept any port on a registered `http://127.0.0.1` or
    /// `http://[::1]` redirect URI. Off by default, like Scalekit.
    pub allow_any_loopback_port: bool,
    /// A human-readable name shown on the login page.
    pub name: String,
}

/// Everything the emulator needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The socket address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The externally visible base URL; defaults to `http://localhost:<port>`.
    pub public_url: Option<Url>,
    /// Database location.
    pub storage: Storage,
    /// Registered clients.
    pub clients: Vec<ClientConfig>,
    /// Whether passkeys are enabled on a fresh database (a value set later
    /// through the admin route is persisted and wins).
    pub passkeys_enabled: bool,
    /// Guards the `/_admin` routes; without it they answer 403.
    pub admin_token: Option<AdminToken>,
    /// Access-token lifetime.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_token_ttl: Duration,
    /// A browser session ends after this long without use.
    pub session_idle_ttl: Duration,
    /// A browser session ends this long after sign-in whatever happens.
    pub session_absolute_ttl: Duration,
    /// Authorization-code lifetime.
    pub code_ttl: Duration,
    /// Where dev-mailbox messages are echoed.
    pub mail_sink: MailSink,
    /// Sign-in codes one client address may ask for per 15 minutes, over
    /// all email addresses (default [`crate::throttle::CODES_PER_CLIENT_ADDRESS`];
    /// raise it only to load-test the emulator from one address).
    pub codes_per_client_address: usize,
    /// Sign-in codes one browser (its CSRF cookie) may ask for per 15
    /// minutes (default [`crate::throttle::CODES_PER_BROWSER`]; raise it only
    /// to load-test the emulator from one client).
    pub codes_per_browser: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8900)),
            public_url: None,
            storage: Storage::InMemory,
            clients: demo_clients(),
            passkeys_enabled: true,
            admin_token: None,
            access_token_ttl: Duration::from_secs(300),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            session_idle_ttl: Duration::from_secs(24 * 3600),
            session_absolute_ttl: Duration::from_secs(14 * 24 * 3600),
            code_ttl: Duration::from_secs(600),
            mail_sink: MailSink::Stdout,
            codes_per_client_address: crate::throttle::CODES_PER_CLIENT_ADDRESS,
            codes_per_browser: crate::throttle::CODES_PER_BROWSER,
        }
    }
}

/// The demo clients: native `ntvc_demo` and confidential `skc_demo`, whose
/// secret is random (32 bytes, base64url), new on every call and shown
/// nowhere; give it a known one with `--client-secret-file`.
pub fn demo_clients() -> Vec<ClientConfig> {
    vec![
        ClientConfig {
            id: "ntvc_demo".into(),
            kind: ClientKind::Native,
            secret: None,
            redirect_uris: vec![
                "http://127.0.0.1/callback".into(),
                "dev.passkeys.desktop:/callback".into(),
            ],
            post_logout_redirect_uris: vec![
                "http://127.0.0.1/signed-out".into(),
                "dev.passkeys.desktop:/signed-out".into(),
            ],
            allow_any_loopback_port: true,
            name: "Passkeys Desktop (demo)".into(),
        },
        ClientConfig {
            id: DEMO_CONFIDENTIAL_CLIENT.into(),
            kind: ClientKind::Confidential,
            secret: Some(ClientSecret::new(random_token(32))),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            allow_any_loopback_port: false,
            name: "Demo backend".into(),
        },
    ]
}

impl Config {
    /// In memory, `127.0.0.1:0`, passkeys on, admin token
    /// `test-admin-token`, the demo clients with `skc_demo`'s secret
    /// [`TEST_CLIENT_SECRET`], mail to `tracing`.
    pub fn for_tests() -> Self {
        let mut config = Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_token: Some(AdminToken::new("test-admin-token")),
            mail_sink: MailSink::Log,
            ..Self::default()
        };
        config.set_client_secret(
            DEMO_CONFIDENTIAL_CLIENT,
            ClientSecret::new(TEST_CLIENT_SECRET),
        );
        config
    }

    /// Gives the registered confidential client `client_id` this secret;
    /// `false` (and nothing changed) when no such client is registered.
    pub fn set_client_secret(&mut self, client_id: &str, secret: ClientSecret) -> bool {
        match self
            .clients
            .iter_mut()
            .find(|c| c.id == client_id && c.kind == ClientKind::Confidential)
        {
            Some(client) => {
                client.secret = Some(secret);
                true
            }
            None => false,
        }
    }

    /// Parses a TOML configuration; fields left out keep their defaults and
    /// leaving out `[[clients]]` registers the demo clients.
    ///
    /// # Errors
    /// [`Error::Config`] when the TOML is malformed or a client is invalid.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let file: FileConfig =
            toml::from_str(text).map_err(|e| Error::Config(format!("invalid TOML: {e}")))?;
        let mut config = Self::default();
        if let Some(listen) = file.listen {
            config.listen = listen;
        }
        config.public_url = file.public_url;
        match (file.data, file.in_memory) {
            (Some(_), Some(true)) => {
                return Err(Error::Config("give either `data` or `in_memory`".into()))
            }
            (Some(path), _) => config.storage = Storage::File(path),
            _ => config.storage = Storage::InMemory,
        }
        if let Some(enabled) = file.passkeys_enabled {
            config.passkeys_enabled = enabled;
        }
        config.admin_token = file.admin_token.map(AdminToken::new);
        let secs = Duration::from_secs;
        config.access_token_ttl = file
            .access_token_ttl_secs
            .map_or(config.access_token_ttl, secs);
        config.refresh_token_ttl = file
            .refresh_token_ttl_secs
            .map_or(config.refresh_token_ttl, secs);
        config.session_idle_ttl = file
            .session_idle_ttl_secs
            .map_or(config.session_idle_ttl, secs);
        config.session_absolute_ttl = file
            .session_absolute_ttl_secs
            .map_or(config.session_absolute_ttl, secs);
        config.code_ttl = file.code_ttl_secs.map_or(config.code_ttl, secs);
        if let Some(sink) = file.mail_sink {
            config.mail_sink = sink;
        }
        if let Some(limit) = file.codes_per_client_address {
            config.codes_per_client_address = limit;
        }
        if let Some(limit) = file.codes_per_browser {
            config.codes_per_browser = limit;
        }
        if let Some(clients) = file.clients {
            config.clients = clients
                .into_iter()
                .map(FileClient::into_client)
                .collect::<Result<_>>()?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks client ids are unique and each kind has what it needs.
    ///
    /// # Errors
    /// [`Error::Config`] naming the offending client.
    pub fn validate(&self) -> Result<()> {
        for (index, client) in self.clients.iter().enumerate() {
            if client.id.trim().is_empty() {
                return Err(Error::Config(format!(
                    "client #{} has an empty id",
                    index + 1
                )));
            }
            if self.clients[..index].iter().any(|c| c.id == client.id) {
                return Err(Error::Config(format!(
                    "client id {} is registered twice",
                    client.id
                )));
            }
            match (client.kind, &client.secret) {
                (ClientKind::Confidential, None) => {
                    return Err(Error::Config(format!(
                        "confidential client {} needs a secret",
                        client.id
                    )))
                }
                (ClientKind::Native, Some(_)) => {
                    return Err(Error::Config(format!(
                        "native client {} must not have a secret",
                        client.id
                    )))
                }
                _ => {}
            }
            for uri in client
                .redirect_uris
                .iter()
                .chain(&client.post_logout_redirect_uris)
            {
                let parsed = Url::parse(uri).map_err(|e| {
                    Error::Config(format!("client {}: bad URI {uri}: {e}", client.id))
                })?;
                if parsed.fragment().is_some() || uri.len() > 256 {
                    return Err(Error::Config(format!(
                        "client {}: {uri} must be at most 256 characters with no fragment",
                        client.id
                    )));
                }
            }
        }
        Ok(())
    }

    /// The registered client with this id.
    pub fn client(&self, id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.id == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    public_url: Option<Url>,
    data: Option<PathBuf>,
    in_memory: Option<bool>,
    passkeys_enabled: Option<bool>,
    admin_token: Option<String>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    session_idle_ttl_secs: Option<u64>,
    session_absolute_ttl_secs: Option<u64>,
    code_ttl_secs: Option<u64>,
    mail_sink: Option<MailSink>,
    codes_per_client_address: Option<usize>,
    codes_per_browser: Option<usize>,
    clients: Option<Vec<FileClient>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileClient {
    id: String,
    kind: ClientKind,
    secret: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    allow_any_loopback_port: bool,
    name: Option<String>,
}

impl FileClient {
    fn into_client(self) -> Result<ClientConfig> {
        Ok(ClientConfig {
            name: self.name.unwrap_or_else(|| self.id.clone()),
            id: self.id,
            kind: self.kind,
            secret: self.secret.map(ClientSecret::new),
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            allow_any_loopback_port: self.allow_any_loopback_port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses() {
        let config = Config::from_toml_str(include_str!("../emulator.example.toml")).unwrap();
        assert!(config.client("ntvc_myapp").is_some());
        assert_eq!(
            config.client("skc_backend").unwrap().kind,
            ClientKind::Confidential
        );
    }

    #[test]
    fn missing_clients_means_demo_clients() {
        let config = Config::from_toml_str("listen = \"127.0.0.1:0\"").unwrap();
        assert!(config.client("ntvc_demo").is_some());
        assert!(config.client("skc_demo").is_some());
        assert_eq!(config.listen.port(), 0);
    }

    #[test]
    fn invalid_configs_are_refused() {
        let cases = [
            "listen = 12",
            "unknown_key = 1",
            "[[clients]]\nid = \"skc_x\"\nkind = \"confidential\"",
            "[[clients]]\nid = \"ntvc_x\"\nkind = \"native\"\nsecret = \"s\"",
            "[[clients]]\nid = \"a\"\nkind = \"native\"\n[[clients]]\nid = \"a\"\nkind = \"native\"",
            "[[clients]]\nid = \"a\"\nkind = \"native\"\nredirect_uris = [\"not a url\"]",
            "data = \"x.db\"\nin_memory = true",
        ];
        for case in cases {
            assert!(Config::from_toml_str(case).is_err(), "accepted: {case}");
        }
    }

    #[test]
    fn test_config_has_demo_clients_and_admin_token() {
        let config = Config::for_tests();
        assert_eq!(config.storage, Storage::InMemory);
        assert_eq!(
            config.admin_token.as_ref().unwrap().secret(),
            "test-admin-token"
        );
        let native = config.clients.iter().find(|c| c.id == "ntvc_demo").unwrap();
        assert!(native.allow_any_loopback_port);
        let secret = config
            .client(DEMO_CONFIDENTIAL_CLIENT)
            .unwrap()
            .secret
            .as_ref();
        assert_eq!(secret.unwrap().secret(), TEST_CLIENT_SECRET);
    }

    #[test]
    fn the_default_demo_secret_is_random_and_unpublished() {
        let secret = |config: &Config| {
            config
                .client(DEMO_CONFIDENTIAL_CLIENT)
                .and_then(|c| c.secret.clone())
                .unwrap()
        };
        let first = secret(&Config::default());
        let from_file = secret(&Config::from_toml_str("").unwrap());
        assert_eq!(first.secret().len(), 43);
        assert_ne!(first.secret(), TEST_CLIENT_SECRET);
        assert_ne!(first, secret(&Config::default()));
        assert_ne!(from_file.secret(), TEST_CLIENT_SECRET);
        assert!(!format!("{:?}", Config::default()).contains(first.secret()));
    }

    #[test]
    fn a_secret_is_set_only_on_a_registered_confidential_client() {
        let mut config = Config::default();
        assert!(config.set_client_secret(DEMO_CONFIDENTIAL_CLIENT, ClientSecret::new("s")));
        assert_eq!(
            config
                .client(DEMO_CONFIDENTIAL_CLIENT)
                .unwrap()
                .secret
                .as_ref()
                .unwrap()
                .secret(),
            "s"
        );
        assert!(!config.set_client_secret("ntvc_demo", ClientSecret::new("s")));
        assert!(config.client("ntvc_demo").unwrap().secret.is_none());
        assert!(!config.set_client_secret("skc_other", ClientSecret::new("s")));
    }
}
