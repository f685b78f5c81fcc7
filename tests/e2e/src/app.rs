//! The app in a real window, driven through tauri-driver (in front of
//! WebKitWebDriver), and reading what the window shows.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::browser::{program, wait_until_ready};
use crate::page::is_visible;
use crate::process::{descendants_running, free_port, ChildGuard};
use crate::wait::{poll, wait_for, Deadline, UI_TIMEOUT};
use crate::webdriver::{Element, Session};

/// Repaints the page without changing a pixel (see [`App::screenshot`]).
const REPAINT_WITHOUT_CHANGE: &str = "const root = document.documentElement; \
     root.style.outline = root.style.outline ? '' : '1px solid transparent';";

/// How the app is started: its binary and its environment.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The app's binary.
    pub binary: PathBuf,
    /// Environment variables for the app (configuration, XDG dirs).
    pub env: Vec<(String, String)>,
}

/// The running app, one window.
#[derive(Debug)]
pub struct App {
    session: Option<Session>,
    driver: ChildGuard,
    binary: PathBuf,
}

impl App {
    /// The `data-testid` of the element that has the keyboard focus (empty
    /// when it has none).
    ///
    /// # Panics
    /// When the page cannot be read.
    #[track_caller]
    pub fn focused_testid(&self) -> String {
        self.session()
            .execute(
                "return document.activeElement?.dataset?.testid ?? '';",
                Vec::new(),
            )
            .expect("read the focus")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Starts tauri-driver with the app's environment and opens a session,
    /// which starts the app.
    ///
    /// # Panics
    /// When tauri-driver or the app do not start.
    #[track_caller]
    pub fn launch(config: &AppConfig) -> App {
        let port = free_port();
        let native_port = free_port();
        let mut command = Command::new(program("PASSKEYS_E2E_TAURI_DRIVER", "tauri-driver"));
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .arg("--native-driver")
            .arg(program(
                "PASSKEYS_E2E_WEBKIT_DRIVER",
                "/usr/bin/WebKitWebDriver",
            ))
            .envs(config.env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let driver = ChildGuard::spawn("tauri-driver", command);
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&base);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "tauri:options": {"application": config.binary},
        }}});
        let session = Session::create(&base, capabilities).expect("an app session (the window)");
        App {
            session: Some(session),
            driver,
            binary: config.binary.clone(),
        }
    }

    /// The WebDriver session of the window.
    pub fn session(&self) -> &Session {
        self.session.as_ref().expect("the app is running")
    }

    /// A PNG of the window's page.
    ///
    /// The app draws on the CPU (`src-tauri/first_paint.rs`), and there WebKitGTK
    /// answers a screenshot after the page's next frame, which a page that is
    /// not changing never has. So while the screenshot waits, this toggles a
    /// transparent outline on the root element every 100 ms: a repaint that
    /// changes no pixel.
    ///
    /// # Errors
    /// When the driver fails.
    pub fn screenshot(&self) -> crate::webdriver::WdResult<Vec<u8>> {
        let session = self.session();
        std::thread::scope(|scope| {
            let shot = scope.spawn(|| session.screenshot());
            while !shot.is_finished() {
                // A failed nudge (the page navigating, say) is not the
                // screenshot's failure: the next one may land.
                let _ = session.execute(REPAINT_WITHOUT_CHANGE, vec![]);
                std::thread::sleep(Duration::from_millis(100));
            }
            shot.join().expect("the screenshot thread panicked")
        })
    }

    /// The process ids of the app itself (not its WebKit helpers).
    pub fn app_pids(&self) -> Vec<u32> {
        descendants_running(self.driver.pid(), &self.binary)
    }

    /// The process ids of the app's descendants running `binary` (the
    /// emulator and the broker it started on a first run).
    pub fn children_running(&self, binary: &Path) -> Vec<u32> {
        descendants_running(self.driver.pid(), binary)
    }

    /// Quits the app (ends the session) and waits until its process and
    /// every helper it started are gone.
    pub fn quit(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let pids = self.app_pids();
        if let Some(session) = self.session.take() {
            let _ = session.delete();
        }
        // The app should exit by itself once the session ends.
        let _ = poll(Deadline::after(Duration::from_secs(10)), || {
            pids.iter()
                .all(|pid| !crate::process::is_alive(*pid))
                .then_some(())
        });
        self.driver.stop();
    }

    /// Moves the keyboard focus away from the window and back, as a person
    /// does when they come back from the browser (X input focus, through
    /// `xdotool`: the window gets real focus-out and focus-in events).
    ///
    /// # Panics
    /// When the window cannot be found or focused.
    #[track_caller]
    pub fn refocus(&self) {
        let pids = self.app_pids();
        let window = wait_for("the app's X window", UI_TIMEOUT, || {
            pids.iter().find_map(|pid| {
                let output = Command::new("xdotool")
                    .args(["search", "--onlyvisible", "--pid", &pid.to_string()])
                    .output()
                    .ok()?;
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .next()
                    .map(str::to_owned)
            })
        });
        // The root window: the only one at depth 0.
        let root = Command::new("xdotool")
            .args(["search", "--maxdepth", "0", "--name", ""])
            .output()
            .expect("run xdotool");
        let root = String::from_utf8_lossy(&root.stdout)
            .lines()
            .next()
            .map(str::to_owned)
            .expect("the root window's id");
        for target in [root.as_str(), window.as_str()] {
            let status = Command::new("timeout")
                .args(["10", "xdotool", "windowfocus", "--sync", target])
                .stdout(Stdio::null())
                .status()
                .expect("run xdotool");
            assert!(
                status.success(),
                "xdotool windowfocus {target} failed: {status}"
            );
        }
    }

    /// The first element with `data-testid` = `testid`, if present.
    ///
    /// # Panics
    /// When the driver fails.
    #[track_caller]
    pub fn find(&self, testid: &str) -> Option<Element> {
        self.session()
            .find(&testid_selector(testid))
            .expect("find element")
    }

    /// Waits for a *visible* element with this `data-testid`.
    ///
    /// # Panics
    /// When it does not appear in time.
    #[track_caller]
    pub fn wait_visible(&self, testid: &str) -> Element {
        self.wait_visible_css(&testid_selector(testid))
    }

    /// Waits for a visible element matching a CSS selector.
    ///
    /// # Panics
    /// When it does not appear in time.
    #[track_caller]
    pub fn wait_visible_css(&self, css: &str) -> Element {
        crate::page::wait_visible(self.session(), css)
    }

    /// Waits until nothing visible matches this `data-testid`.
    ///
    /// # Panics
    /// When it is still there at the deadline.
    #[track_caller]
    pub fn wait_gone(&self, testid: &str) {
        let session = self.session();
        let css = testid_selector(testid);
        wait_for(&format!("`{css}` to leave the window"), UI_TIMEOUT, || {
            let elements = session.find_all(&css).ok()?;
            elements
                .iter()
                .all(|element| !is_visible(session, element))
                .then_some(())
        });
    }

    /// Clicks the visible element with this `data-testid` (waiting for it).
    ///
    /// # Panics
    /// When it does not appear or cannot be clicked.
    #[track_caller]
    pub fn click(&self, testid: &str) {
        let element = self.wait_visible(testid);
        self.session()
            .click(&element)
            .unwrap_or_else(|error| panic!("click `{testid}`: {error}"));
    }

    /// The text of the whole window, as rendered.
    ///
    /// # Panics
    /// When the driver fails.
    #[track_caller]
    pub fn page_text(&self) -> String {
        let value = self
            .session()
            .execute("return document.body.innerText;", vec![])
            .expect("read the window text");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the text of the element with this `data-testid`
    /// satisfies `check`, returning the text.
    ///
    /// # Panics
    /// When it does not in time.
    #[track_caller]
    pub fn wait_text(&self, testid: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let session = self.session();
        let css = testid_selector(testid);
        let mut last = String::new();
        let found = poll(Deadline::after(UI_TIMEOUT), || {
            let elements = session.find_all(&css).ok()?;
            let text = elements
                .iter()
                .filter_map(|element| session.text(element).ok())
                .collect::<Vec<_>>()
                .join("\n");
            last.clone_from(&text);
            check(&text).then_some(text)
        });
        found.unwrap_or_else(|| {
            panic!("timed out waiting for `{css}` to show {what}; it shows {last:?}; the window shows {:?}", self.page_text())
        })
    }

    /// Waits until the window's whole text satisfies `check`.
    ///
    /// # Panics
    /// When it does not in time.
    #[track_caller]
    pub fn wait_page_text(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let found = poll(Deadline::after(UI_TIMEOUT), || {
            let text = self
                .session()
                .execute("return document.body.innerText;", vec![])
                .ok()?;
            let text = text.as_str().unwrap_or_default().to_owned();
            last.clone_from(&text);
            check(&text).then_some(text)
        });
        found.unwrap_or_else(|| {
            panic!("timed out waiting for the window to show {what}; it shows {last:?}")
        })
    }

    /// Types into the visible element with this `data-testid`, replacing
    /// what it held.
    ///
    /// # Panics
    /// When it is not there or not editable.
    #[track_caller]
    pub fn replace_text(&self, testid: &str, text: &str) {
        let element = self.wait_visible(testid);
        let session = self.session();
        session
            .clear(&element)
            .unwrap_or_else(|error| panic!("clear `{testid}`: {error}"));
        session
            .send_keys(&element, text)
            .unwrap_or_else(|error| panic!("type into `{testid}`: {error}"));
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The CSS selector of a `data-testid`.
pub fn testid_selector(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

/// A fresh directory for one test's files (profile, data, configuration).
///
/// # Panics
/// When it cannot be created.
pub fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary directory")
}

/// The app binary: `PASSKEYS_E2E_APP` or the workspace's debug build.
pub fn app_binary() -> PathBuf {
    binary("PASSKEYS_E2E_APP", "passkeys-desktop")
}

/// The emulator binary: `PASSKEYS_E2E_EMULATOR` or the workspace's debug build.
pub fn emulator_binary() -> PathBuf {
    binary("PASSKEYS_E2E_EMULATOR", "scalekit-emulator")
}

/// The broker binary: `PASSKEYS_E2E_BROKER` or the workspace's debug build.
pub fn broker_binary() -> PathBuf {
    binary("PASSKEYS_E2E_BROKER", "passkeys-broker")
}

fn binary(variable: &str, name: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map_or_else(|| target_dir().join("debug").join(name), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is missing: build it first (cargo build -p passkeys-desktop -p scalekit-emulator -p passkeys-broker)",
        path.display()
    );
    path
}

/// The workspace's root directory.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workspace's target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    )
}
