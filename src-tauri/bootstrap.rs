//! Turns the configuration into a running client core, shared by the window
//! and the command line.
//!
//! With nothing configured (`Config::load()` gives `None`) the app starts the
//! local emulator, the `scalekit-emulator` binary shipped beside its own
//! executable, as a child process ([`crate::emulator_process`]), with its
//! database in the app's data directory and the demo client `ntvc_demo`, so a
//! first run works offline.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use passkeys_core::{BrowserLauncher, Client, CommandBrowser, Config, KeyringStore, RedirectMode};
use serde::Serialize;
use url::Url;

use crate::emulator_process::{self, EmulatorCommand, EmulatorProcess};

/// The app's identifier: data directory name and deep-link scheme.
pub use passkeys_core::APP_IDENTIFIER;

/// The embedded emulator's preferred port: a stable issuer URL keeps the
/// keychain entry valid from one start to the next. Taken: any free port.
pub const EMBEDDED_EMULATOR_PORT: u16 = 47_811;

/// The embedded emulator's demo client.
pub const EMBEDDED_CLIENT_ID: &str = "ntvc_demo";

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
}

impl EnvironmentInfo {
    /// Describes a configuration.
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
        }
    }
}

/// A started client core, and the emulator process it talks to when the app
/// started one.
pub struct Ready {
    /// The client core.
    pub client: Client,
    /// For the account view.
    pub environment: EnvironmentInfo,
    /// Runs as long as the client; stopped when dropped.
    emulator: Option<EmulatorProcess>,
}

impl Ready {
    /// A client with no embedded emulator (tests build it around their own).
    pub fn new(client: Client, environment: EnvironmentInfo) -> Ready {
        Ready {
            client,
            environment,
            emulator: None,
        }
    }

    /// The emulator process the app started, if it did.
    pub fn emulator(&self) -> Option<&EmulatorProcess> {
        self.emulator.as_ref()
    }

    /// Stops the emulator process the app started, if any (on exit: the
    /// window's state is never dropped).
    pub fn stop_emulator(&self) {
        if let Some(emulator) = &self.emulator {
            emulator.stop();
        }
    }
}

/// Opens URLs in the system's default browser (`tauri-plugin-opener`'s opener,
/// which needs no window, so the command line uses it too).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemBrowser;

impl BrowserLauncher for SystemBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        tauri_plugin_opener::open_url(url.as_str(), None::<&str>).map_err(|error| {
            passkeys_core::Error::Config(format!("Could not open the browser: {error}."))
        })
    }
}

/// The app's data directory (the embedded emulator's database lives there).
pub fn data_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.data_dir().join(APP_IDENTIFIER))
}

/// Loads the configuration (or starts the local emulator beside the app's
/// executable) and builds the client.
///
/// `default_browser` is used unless the configuration names a browser command.
///
/// # Errors
/// When the configuration is invalid, the emulator cannot start, or the
/// client cannot be built.
pub async fn start(default_browser: Arc<dyn BrowserLauncher>) -> passkeys_core::Result<Ready> {
    start_with_emulator_binary(default_browser, None).await
}

/// [`start`], with the emulator's binary given (`None`: the one next to this
/// process's executable). Tests name the one cargo built.
///
/// # Errors
/// As [`start`].
pub async fn start_with_emulator_binary(
    default_browser: Arc<dyn BrowserLauncher>,
    emulator_binary: Option<&Path>,
) -> passkeys_core::Result<Ready> {
    let (config, emulator) = match Config::load()? {
        Some(config) => (config, None),
        None => {
            let binary = match emulator_binary {
                Some(path) => path.to_path_buf(),
                None => emulator_process::binary_next_to_current_exe()?,
            };
            let emulator = start_embedded_emulator(binary).await?;
            let config = embedded_config(emulator.base_url().clone())?;
            (config, Some(emulator))
        }
    };
    let environment = EnvironmentInfo::new(&config, emulator.is_some());
    let browser: Arc<dyn BrowserLauncher> = match &config.browser_command {
        Some(command) => Arc::new(CommandBrowser::new(command)?),
        None => default_browser,
    };
    let store = Arc::new(KeyringStore::new(&config.keychain_service));
    let client = Client::new(config, store, browser).await?;
    Ok(Ready {
        client,
        environment,
        emulator,
    })
}

/// The embedded emulator's configuration, with the variables that still apply
/// without an environment (`PASSKEYS_BROWSER`, `PASSKEYS_KEYCHAIN_SERVICE`).
fn embedded_config(base_url: Url) -> passkeys_core::Result<Config> {
    let mut config = Config::new(base_url, EMBEDDED_CLIENT_ID);
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    config.browser_command = var("PASSKEYS_BROWSER");
    if let Some(service) = var("PASSKEYS_KEYCHAIN_SERVICE") {
        config.keychain_service = service;
    }
    config.validate()?;
    Ok(config)
}

/// Starts the emulator's binary on the preferred port (any free port if that
/// fails), with its database in the app's data directory.
async fn start_embedded_emulator(binary: PathBuf) -> passkeys_core::Result<EmulatorProcess> {
    let dir = data_dir().ok_or_else(|| {
        passkeys_core::Error::Config("No home directory: cannot keep the emulator's data.".into())
    })?;
    std::fs::create_dir_all(&dir).map_err(|error| {
        passkeys_core::Error::Config(format!("Could not create {}: {error}.", dir.display()))
    })?;
    // The binary's defaults are the in-process ones: the demo clients
    // (`ntvc_demo`, `skc_demo`), passkeys on, email codes on stdout (also at
    // `/_dev/mailbox`: no real mail leaves the machine); `--no-admin` keeps
    // the admin routes off, as they were.
    let mut command = EmulatorCommand {
        binary,
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, EMBEDDED_EMULATOR_PORT)),
        data: dir.join("emulator.db"),
    };
    match EmulatorProcess::start(&command).await {
        Ok(emulator) => Ok(emulator),
        Err(first) if command.binary.is_file() => {
            tracing::info!(%first, "local emulator: preferred port unavailable, using any free port");
            command.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            EmulatorProcess::start(&command).await
        }
        Err(missing) => Err(missing),
    }
}
