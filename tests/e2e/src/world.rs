//! Everything one end-to-end test runs against, started fresh for it and
//! stopped when it ends: a keychain, the emulator, Chromium, and the app.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::app::{
    app_binary, broker_binary, emulator_binary, target_dir, temp_dir, App, AppConfig,
};
use crate::broker::Broker;
use crate::browser::{Browser, UrlInbox};
use crate::emulator::Emulator;
use crate::keychain::{Keychain, KeychainItem};

/// The native demo client of the emulator.
pub const CLIENT_ID: &str = "ntvc_demo";
/// The app's private-use URI scheme.
pub const DEEP_LINK_SCHEME: &str = "dev.passkeys.desktop";

/// How the app receives the sign-in callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirect {
    /// `http://127.0.0.1:<ephemeral port>/callback`.
    Loopback,
    /// `dev.passkeys.desktop:/callback`, delivered by a second launch.
    DeepLink,
}

/// Whether the app has a passkeys broker to send its passkeys API calls to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMode {
    /// To the passkeys broker in front of the environment
    /// (`PASSKEYS_API_URL`), as in production.
    Broker,
    /// No broker configured: sign-in works, and passkeys are managed in the
    /// browser (what a real environment without a broker gives).
    NoBroker,
}

/// One test's world. Fields stop in declaration order: the app first.
#[derive(Debug)]
pub struct World {
    app: Option<App>,
    /// The system browser.
    pub browser: Browser,
    /// The URLs the app asked the system browser to open.
    pub inbox: UrlInbox,
    /// The broker, in [`ApiMode::Broker`].
    pub broker: Option<Broker>,
    /// The environment.
    pub emulator: Emulator,
    /// The keychain.
    pub keychain: Keychain,
    keychain_service: String,
    name: String,
    screenshots: PathBuf,
    shot_number: AtomicUsize,
    dir: tempfile::TempDir,
}

impl World {
    /// Starts a keychain, the emulator, the broker in front of it and
    /// Chromium for the test `name`.
    ///
    /// # Panics
    /// When any of them does not start.
    #[track_caller]
    pub fn start(name: &str) -> World {
        World::start_with(name, ApiMode::Broker)
    }

    /// Like [`World::start`], with the app's passkeys API calls going where
    /// `mode` says (in [`ApiMode::Broker`], a broker is started too).
    ///
    /// # Panics
    /// When any of them does not start.
    #[track_caller]
    pub fn start_with(name: &str, mode: ApiMode) -> World {
        World::start_with_broker_args(name, mode, &[])
    }

    /// Like [`World::start_with`], the broker started with `broker_args`
    /// too (e.g. `["--step-up-max-age-secs", "20"]`).
    ///
    /// # Panics
    /// When any of them does not start.
    #[track_caller]
    pub fn start_with_broker_args(name: &str, mode: ApiMode, broker_args: &[&str]) -> World {
        let dir = temp_dir("passkeys-e2e-");
        let keychain = Keychain::start(dir.path());
        let emulator = Emulator::start(&emulator_binary(), dir.path());
        let broker = match mode {
            ApiMode::NoBroker => None,
            ApiMode::Broker => Some(Broker::start_with_args(
                &broker_binary(),
                &emulator.base(),
                emulator.secret_file(),
                broker_args,
            )),
        };
        let profile = dir.path().join("chromium-profile");
        std::fs::create_dir_all(&profile).expect("Chromium profile directory");
        let browser = Browser::start(&profile);
        let inbox = UrlInbox::create(dir.path());
        let screenshots = target_dir().join("e2e-screenshots").join(name);
        let _ = std::fs::remove_dir_all(&screenshots);
        std::fs::create_dir_all(&screenshots).expect("screenshot directory");
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        World {
            app: None,
            browser,
            inbox,
            broker,
            emulator,
            keychain,
            keychain_service: format!("dev.passkeys.e2e.{}.{unique}", std::process::id()),
            name: name.to_owned(),
            screenshots,
            shot_number: AtomicUsize::new(0),
            dir,
        }
    }

    /// The keychain service name the app is configured with.
    pub fn keychain_service(&self) -> &str {
        &self.keychain_service
    }

    /// The broker of this world.
    ///
    /// # Panics
    /// When the world runs in [`ApiMode::Direct`].
    #[track_caller]
    pub fn broker(&self) -> &Broker {
        self.broker.as_ref().expect("the world runs a broker")
    }

    /// How the app is started, configured for this world: in
    /// [`ApiMode::Broker`] with `PASSKEYS_API_URL` naming the broker.
    pub fn app_config(&self, redirect: Redirect) -> AppConfig {
        let dir = self.dir.path();
        let mut env = vec![
            ("PASSKEYS_ENV_URL".to_owned(), self.emulator.base()),
            ("PASSKEYS_CLIENT_ID".to_owned(), CLIENT_ID.to_owned()),
            (
                "PASSKEYS_REDIRECT".to_owned(),
                match redirect {
                    Redirect::Loopback => "loopback".to_owned(),
                    Redirect::DeepLink => "deeplink".to_owned(),
                },
            ),
            ("PASSKEYS_BROWSER".to_owned(), self.inbox.command()),
            (
                "PASSKEYS_KEYCHAIN_SERVICE".to_owned(),
                self.keychain_service.clone(),
            ),
            // Nothing of the user's configuration or data is read.
            (
                "XDG_CONFIG_HOME".to_owned(),
                dir.join("config").display().to_string(),
            ),
            (
                "XDG_DATA_HOME".to_owned(),
                dir.join("data").display().to_string(),
            ),
            (
                "XDG_CACHE_HOME".to_owned(),
                dir.join("cache").display().to_string(),
            ),
        ];
        env.extend(self.keychain.env());
        if let Some(broker) = &self.broker {
            env.push(("PASSKEYS_API_URL".to_owned(), broker.base()));
        }
        AppConfig {
            binary: app_binary(),
            env,
        }
    }

    /// How the app is started on a first run: nothing configured (no
    /// environment, client, redirect or API URL), with this world's browser,
    /// keychain and private data and config folders. The app then starts
    /// its own emulator and broker.
    pub fn first_run_config(&self) -> AppConfig {
        let mut config = self.app_config(Redirect::Loopback);
        config.env.retain(|(key, _)| {
            !matches!(
                key.as_str(),
                "PASSKEYS_ENV_URL"
                    | "PASSKEYS_CLIENT_ID"
                    | "PASSKEYS_REDIRECT"
                    | "PASSKEYS_API_URL"
            )
        });
        config
    }

    /// The app's data folder (`$XDG_DATA_HOME/dev.passkeys.desktop`).
    pub fn app_data_dir(&self) -> PathBuf {
        self.dir.path().join("data").join(DEEP_LINK_SCHEME)
    }

    /// Starts the app as a first run (see [`World::first_run_config`]).
    ///
    /// # Panics
    /// When the app is already running or does not start.
    #[track_caller]
    pub fn launch_first_run(&mut self) -> &App {
        assert!(self.app.is_none(), "the app is already running");
        let app = App::launch(&self.first_run_config());
        self.app.insert(app)
    }

    /// Starts the app (a window).
    ///
    /// # Panics
    /// When the app is already running or does not start.
    #[track_caller]
    pub fn launch_app(&mut self, redirect: Redirect) -> &App {
        assert!(self.app.is_none(), "the app is already running");
        let app = App::launch(&self.app_config(redirect));
        self.app.insert(app)
    }

    /// Starts the app as `config` says (a configuration of the test's own).
    ///
    /// # Panics
    /// When the app is already running or does not start.
    #[track_caller]
    pub fn launch_with(&mut self, config: &AppConfig) -> &App {
        assert!(self.app.is_none(), "the app is already running");
        let app = App::launch(config);
        self.app.insert(app)
    }

    /// Quits the app and waits until it is gone.
    pub fn quit_app(&mut self) {
        if let Some(app) = self.app.take() {
            app.quit();
        }
    }

    /// The running app.
    ///
    /// # Panics
    /// When it is not running.
    #[track_caller]
    pub fn app(&self) -> &App {
        self.app.as_ref().expect("the app is running")
    }

    /// Saves a PNG of the window as `<n>-<step>-window.png`.
    ///
    /// Every view saved this way is also checked for accessibility
    /// ([`crate::a11y::assert_accessible`]: axe-core, WCAG 2.1 AA), so each
    /// view a scenario reaches is checked where it is shown.
    pub fn shot_window(&self, step: &str) {
        if let Some(app) = &self.app {
            self.save(step, "window", app.screenshot());
            crate::a11y::assert_accessible(app, step);
        }
    }

    /// Saves a PNG of the browser's page as `<n>-<step>-browser.png`.
    pub fn shot_browser(&self, step: &str) {
        self.save(step, "browser", self.browser.session().screenshot());
    }

    /// The path of the last window screenshot of `step`.
    pub fn screenshot_path(&self, step: &str, what: &str) -> Option<PathBuf> {
        let suffix = format!("-{step}-{what}.png");
        std::fs::read_dir(&self.screenshots)
            .ok()?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(&suffix))
            })
            .max()
    }

    fn save(&self, step: &str, what: &str, png: crate::webdriver::WdResult<Vec<u8>>) {
        let number = self.shot_number.fetch_add(1, Ordering::Relaxed) + 1;
        let path = self
            .screenshots
            .join(format!("{number:02}-{step}-{what}.png"));
        match png {
            Ok(png) => {
                if let Err(error) = std::fs::write(&path, png) {
                    eprintln!("e2e: cannot write {}: {error}", path.display());
                }
            }
            Err(error) => eprintln!("e2e: no screenshot of the {what} for {step}: {error}"),
        }
    }

    /// The app's keychain items.
    pub fn keychain_items(&self) -> Vec<KeychainItem> {
        self.keychain.items(&self.keychain_service)
    }

    /// The session the app stored in the keychain (its JSON, put back
    /// together when it is split into `<user>#<n>` parts), read the way any
    /// other program of the user could.
    ///
    /// # Panics
    /// When there is none, or it is not JSON.
    #[track_caller]
    pub fn stored_session(&self) -> Value {
        let items = self.keychain_items();
        let is_part = |user: &str| {
            user.rsplit_once('#')
                .is_some_and(|(_, n)| n.parse::<usize>().is_ok())
        };
        let mains: Vec<&KeychainItem> = items
            .iter()
            .filter(|item| !is_part(item.attributes.get("username").map_or("", String::as_str)))
            .collect();
        assert_eq!(
            mains.len(),
            1,
            "expected one keychain entry for the app, found {items:?}"
        );
        let user = mains[0]
            .attributes
            .get("username")
            .cloned()
            .unwrap_or_default();
        let main = mains[0]
            .secret
            .clone()
            .expect("the keychain entry's secret (is the keyring locked?)");
        let text = match main.strip_prefix("chunks:") {
            None => main,
            Some(count) => {
                let count: usize = count.parse().expect("a chunk count");
                (1..=count)
                    .map(|index| {
                        let name = format!("{user}#{index}");
                        items
                            .iter()
                            .find(|item| item.attributes.get("username") == Some(&name))
                            .and_then(|item| item.secret.clone())
                            .unwrap_or_else(|| panic!("keychain part {name} is missing"))
                    })
                    .collect()
            }
        };
        serde_json::from_str(&text).expect("the keychain entry holds the session as JSON")
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.shot_window("failure");
            self.shot_browser("failure");
            if let Some(app) = &self.app {
                if let Ok(text) = app
                    .session()
                    .execute("return document.body.innerText;", vec![])
                {
                    eprintln!("e2e [{}]: the window showed {text}", self.name);
                }
            }
        }
        self.quit_app();
    }
}
