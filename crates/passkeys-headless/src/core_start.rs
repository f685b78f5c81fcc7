//! Turns the configuration into a running client core, shared by the window
//! and the command line.
//!
//! The configuration is read once ([`Config::load_environments`]): every
//! environment it names gets its accounts ([`Accounts`]). For the local
//! environment (nothing configured, or `emulator = true`) the app starts it
//! as child processes ([`crate::local_servers`]): the
//! `scalekit-emulator` binary shipped beside its own executable, with its
//! database in the app's data directory and the demo client `ntvc_demo`, and
//! the `passkeys-broker` binary in front of it, which the app's passkeys
//! calls go through, as they do in production. A first run works offline.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use passkeys_core::{
    Accounts, BrowserLauncher, Client, ClientOptions, Config, EnvironmentKind, KeyringStore,
    LocalSettings, RedirectMode, ACCOUNTS_FILE,
};
use serde::Serialize;

use crate::local_servers::{
    self, BrokerCommand, ChildServer, DevMailboxUrl, EmulatorCommand, BROKER_BINARY,
    DEMO_APP_CLIENT_ID, DEMO_BROKER_CLIENT_ID, EMULATOR_BINARY,
};

/// The app's identifier: data directory name and deep-link scheme.
pub use passkeys_core::APP_IDENTIFIER;

/// The embedded emulator's preferred port: a stable issuer URL keeps the
/// keychain entry valid from one start to the next. Taken: any free port.
pub const EMBEDDED_EMULATOR_PORT: u16 = 47_811;

/// The embedded emulator's demo client.
pub const EMBEDDED_CLIENT_ID: &str = DEMO_APP_CLIENT_ID;

/// The file of the app's data directory that holds the local broker's client
/// secret (written by the emulator, readable by its owner only).
pub const BROKER_SECRET_FILE: &str = "broker-client-secret";

/// What the account view says about the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentInfo {
    /// The environment (issuer) URL.
    pub url: String,
    /// `loopback`, `loopback:PORT` or the deep-link redirect URI.
    pub redirect: String,
    /// True when the app started its own emulator.
    pub embedded_emulator: bool,
    /// The passkeys broker's URL, `None` when none is configured.
    pub passkeys_api: Option<String>,
    /// Where the app's own emulator shows its sign-in codes: its dev
    /// mailbox's address, with the key only this app was given. `None`
    /// for any other environment.
    pub dev_mailbox: Option<DevMailboxUrl>,
}

impl EnvironmentInfo {
    /// Describes a configuration (no dev mailbox: see [`Ready::environment`]).
    pub fn new(config: &Config, embedded_emulator: bool) -> EnvironmentInfo {
        let redirect = match &config.redirect {
            RedirectMode::Loopback { port: 0 } => "loopback".to_string(),
            RedirectMode::Loopback { port } => format!("loopback:{port}"),
            RedirectMode::DeepLink { redirect_uri } => redirect_uri.to_string(),
        };
        EnvironmentInfo {
            url: config
                .environment_url
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            redirect,
            embedded_emulator,
            passkeys_api: config
                .api_url()
                .map(|url| url.as_str().trim_end_matches('/').to_string()),
            dev_mailbox: None,
        }
    }
}

/// The local environment the app started: the emulator and the broker.
#[derive(Debug)]
pub struct LocalEnvironment {
    /// The emulator (the environment, the issuer).
    pub emulator: ChildServer,
    /// The passkeys broker in front of it.
    pub broker: ChildServer,
}

impl LocalEnvironment {
    /// Stops both children (the broker first).
    pub fn stop(&self) {
        self.broker.stop();
        self.emulator.stop();
    }
}

/// The started accounts (each with its own client), and the local
/// environment they talk to when the app started one.
pub struct Ready {
    /// The accounts, one of them current.
    pub accounts: Accounts,
    /// Runs as long as the accounts; stopped when dropped.
    local: Option<LocalEnvironment>,
    /// The local environment's name, when the app started it.
    local_name: Option<String>,
}

impl Ready {
    /// Accounts with no local environment (tests build them around their own).
    pub fn new(accounts: Accounts) -> Ready {
        Ready {
            accounts,
            local: None,
            local_name: None,
        }
    }

    /// The client the window acts with ([`Accounts::active_client`]).
    ///
    /// # Errors
    /// As [`Accounts::active_client`].
    pub fn client(&self) -> passkeys_core::Result<Client> {
        self.accounts.active_client()
    }

    /// What the account view says about the environment of
    /// [`Ready::client`].
    ///
    /// # Errors
    /// As [`Ready::client`].
    pub fn environment(&self) -> passkeys_core::Result<EnvironmentInfo> {
        let client = self.client()?;
        let config = client.config();
        let embedded = self.local_name.as_deref().is_some_and(|name| {
            self.accounts
                .environment(name)
                .is_some_and(|local| local.environment_url == config.environment_url)
        });
        let mut info = EnvironmentInfo::new(config, embedded);
        if embedded {
            info.dev_mailbox = self
                .local
                .as_ref()
                .and_then(|local| local.emulator.dev_mailbox().cloned());
        }
        Ok(info)
    }

    /// The local environment the app started, if it did.
    pub fn local(&self) -> Option<&LocalEnvironment> {
        self.local.as_ref()
    }

    /// Stops the local environment the app started, if any (on exit: the
    /// window's state is never dropped).
    pub fn stop_local_servers(&self) {
        if let Some(local) = &self.local {
            local.stop();
        }
    }
}

/// The app's data directory (the embedded emulator's database lives there).
pub fn data_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.data_dir().join(APP_IDENTIFIER))
}

/// Loads every named environment ([`Config::load_environments`]), starts
/// the local one's emulator and broker beside the app's executable when it
/// is among them (with nothing configured it is the only one), and opens
/// the accounts: their tokens in the OS keychain, the accounts file
/// ([`ACCOUNTS_FILE`]) in the app's data directory.
///
/// `default_browser` is used unless the configuration names a browser command.
///
/// # Errors
/// When the configuration is invalid, the emulator cannot start, the
/// accounts file cannot be read, or a client cannot be built.
pub async fn start(default_browser: Arc<dyn BrowserLauncher>) -> passkeys_core::Result<Ready> {
    start_with_local_binaries(default_browser, None).await
}

/// [`start`], with the directory of the emulator's and the broker's binaries
/// given (`None`: the directory of this process's executable). Tests name the
/// one cargo built them in.
///
/// # Errors
/// As [`start`].
pub async fn start_with_local_binaries(
    default_browser: Arc<dyn BrowserLauncher>,
    binaries: Option<&Path>,
) -> passkeys_core::Result<Ready> {
    let mut local = None;
    let mut local_name = None;
    let mut environments = Vec::new();
    for named in Config::load_environments()?.list {
        let config = match named.kind {
            EnvironmentKind::Configured(config) => *config,
            EnvironmentKind::LocalEmulator(settings) => {
                let (config, started) = start_local(binaries, &settings).await?;
                local = Some(started);
                local_name = Some(named.name.clone());
                config
            }
        };
        environments.push((named.name, config));
    }
    let service = environments
        .first()
        .map(|(_, config)| config.keychain_service.clone())
        .unwrap_or_else(|| passkeys_core::DEFAULT_KEYCHAIN_SERVICE.to_owned());
    let store = Arc::new(KeyringStore::new(&service));
    let state_file = data_dir().map(|dir| dir.join(ACCOUNTS_FILE));
    let options = ClientOptions::default();
    let accounts =
        Accounts::open(environments, store, default_browser, options, state_file).await?;
    Ok(Ready {
        accounts,
        local,
        local_name,
    })
}

/// Starts the local environment (the emulator and the broker from
/// `binaries`, or from beside this executable) and gives its configuration,
/// as a first run with nothing configured does, with `settings` (the
/// browser and keychain service the configuration names without an
/// environment).
///
/// # Errors
/// When a binary is missing or a server cannot start.
pub async fn start_local(
    binaries: Option<&Path>,
    settings: &LocalSettings,
) -> passkeys_core::Result<(Config, LocalEnvironment)> {
    let binary = |name: &str| match binaries {
        Some(dir) => Ok(local_servers::binary_in(dir, name)),
        None => local_servers::binary_next_to_current_exe(name),
    };
    let local = start_local_environment(binary(EMULATOR_BINARY)?, binary(BROKER_BINARY)?).await?;
    let config = settings.config_for(
        local.emulator.base_url().clone(),
        EMBEDDED_CLIENT_ID,
        local.broker.base_url().clone(),
    )?;
    Ok((config, local))
}

/// Starts the emulator and then the broker in front of it.
async fn start_local_environment(
    emulator_binary: PathBuf,
    broker_binary: PathBuf,
) -> passkeys_core::Result<LocalEnvironment> {
    let dir = data_dir().ok_or_else(|| {
        passkeys_core::Error::Config("No home directory: cannot keep the emulator's data.".into())
    })?;
    let emulator = start_embedded_emulator(emulator_binary, &dir).await?;
    let broker = ChildServer::start(
        &BrokerCommand {
            binary: broker_binary,
            environment_url: emulator.base_url().clone(),
            client_id: EMBEDDED_CLIENT_ID.to_owned(),
            upstream_client_id: DEMO_BROKER_CLIENT_ID.to_owned(),
            client_secret_file: dir.join(BROKER_SECRET_FILE),
        }
        .server(),
    )
    .await?;
    Ok(LocalEnvironment { emulator, broker })
}

/// Starts the emulator's binary on the preferred port (any free port if that
/// fails), with its database and its confidential client's secret in `dir`,
/// made private first ([`crate::data_folder`]).
async fn start_embedded_emulator(
    binary: PathBuf,
    dir: &Path,
) -> passkeys_core::Result<ChildServer> {
    // Private (0700 on unix) before the emulator puts its keys in it.
    crate::data_folder::make_private(dir)?;
    // The binary's defaults: the demo clients (`ntvc_demo`, and `skc_demo`
    // whose secret is in the secret file), passkeys on, email codes on
    // stdout (also in its dev mailbox, at the address with a per-run key it
    // prints for this app alone: no real mail leaves the machine);
    // `--no-admin` keeps the admin routes off.
    let mut command = EmulatorCommand {
        binary,
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, EMBEDDED_EMULATOR_PORT)),
        data: dir.join("emulator.db"),
        client_secret_file: dir.join(BROKER_SECRET_FILE),
    };
    match ChildServer::start(&command.server()).await {
        Ok(emulator) => Ok(emulator),
        Err(first) if command.binary.is_file() => {
            tracing::info!(%first, "local emulator: preferred port unavailable, using any free port");
            command.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            ChildServer::start(&command.server()).await
        }
        Err(missing) => Err(missing),
    }
}
