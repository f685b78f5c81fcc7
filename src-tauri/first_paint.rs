//! The main window, created with the view it shows first.
//!
//! Left alone, the page would paint "Loading…", ask for the session over IPC
//! and paint the real view frames later. Instead, start-up gives the core a
//! short budget ([`BOOT_BUDGET`]) to start and read the session, and hands the
//! answer to the page in a script that defines `window.__PASSKEYS_BOOT__`
//! before the page's own script runs: its first paint is already the real
//! view. When the budget runs out (a slow keychain, an unlock prompt), the
//! page asks for the session as before; the core keeps starting in the
//! background either way.
//!
//! On Linux the window is built first and the script added once the session
//! is known ([`open_main_window`]): building the window takes about 150 ms of
//! the main thread and its web process another 150 ms to start, time in which
//! the core starts and reads the keychain. Elsewhere the window is built with
//! the script, after the session is known.
//!
//! The boot data is what the `session` command answers (`{"session": …}`) or
//! the error it fails with (`{"error": {"kind", "message"}}`): an account's
//! subject, name, email and environment URL, never a token.

use std::time::Duration;

use passkeys_core::{SessionState, UiError};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, WebviewWindow, WebviewWindowBuilder};
use tokio::sync::oneshot;

use crate::state::AppState;

/// The label of the app's one window (capabilities grant it the commands).
pub const MAIN_WINDOW: &str = "main";

/// How long the window waits for the session before it opens without it.
pub const BOOT_BUDGET: Duration = Duration::from_millis(400);

/// The `sessionStorage` key that marks the boot data as used in this window,
/// so that a reload asks for the session instead of showing a stale one.
const BOOT_USED_KEY: &str = "passkeys-boot-used";

/// What the page's first view shows: the session, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BootData {
    /// The `session` command's answer.
    Session(SessionState),
    /// The error the `session` command fails with.
    Error(UiError),
}

impl From<Result<SessionState, UiError>> for BootData {
    fn from(result: Result<SessionState, UiError>) -> Self {
        match result {
            Ok(session) => BootData::Session(session),
            Err(error) => BootData::Error(error),
        }
    }
}

/// Starts the core in the background and reads the session; the receiver
/// gets the boot data once both are done.
pub fn start_core<R: Runtime>(app: &AppHandle<R>) -> oneshot::Receiver<BootData> {
    let (sender, receiver) = oneshot::channel();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = handle.state::<AppState>();
        let session = match state.client().await {
            Ok(client) => client.session().await.map_err(UiError::from),
            Err(error) => {
                tracing::warn!(kind = ?error.kind, "the client core did not start");
                Err(error)
            }
        };
        // The window may have opened without it (budget exceeded): nobody listens then.
        let _ = sender.send(BootData::from(session));
    });
    receiver
}

/// Waits at most `budget` for the boot data (blocking: call it from `setup`).
pub fn wait_for(receiver: oneshot::Receiver<BootData>, budget: Duration) -> Option<BootData> {
    tauri::async_runtime::block_on(async move {
        match tokio::time::timeout(budget, receiver).await {
            Ok(Ok(boot)) => Some(boot),
            Ok(Err(_)) | Err(_) => None,
        }
    })
}

/// The initialization script that hands `boot` to the page, once per window:
/// a reload of the page finds no boot data.
///
/// # Errors
/// When `boot` cannot be written as JSON.
pub fn boot_script(boot: &BootData) -> serde_json::Result<String> {
    // A JSON value is a JavaScript expression.
    let json = serde_json::to_string(boot)?;
    let key = serde_json::to_string(BOOT_USED_KEY)?;
    Ok(format!(
        "(function () {{\n\
         \x20 try {{\n\
         \x20   if (window.sessionStorage.getItem({key}) !== null) return;\n\
         \x20   window.sessionStorage.setItem({key}, \"1\");\n\
         \x20 }} catch (_) {{}}\n\
         \x20 window.__PASSKEYS_BOOT__ = {json};\n\
         }})();\n"
    ))
}

/// Opens the main window and hands it the boot data that `boot` brings
/// within [`BOOT_BUDGET`] (call it from `setup`: it blocks).
///
/// # Errors
/// As [`create_main_window`].
pub fn open_main_window<R: Runtime>(
    app: &AppHandle<R>,
    boot: oneshot::Receiver<BootData>,
) -> Result<WebviewWindow<R>, Box<dyn std::error::Error>> {
    if cfg!(target_os = "linux") {
        // The page's document is created after the web process has started
        // and fetched the page: a script added before then runs in it. Later
        // than that, the page asks for the session (`takeBootData` is null).
        let window = create_main_window(app, None)?;
        if let Some(boot) = read_in_time(boot) {
            add_boot_script(&window, &boot)?;
        }
        Ok(window)
    } else {
        create_main_window(app, read_in_time(boot).as_ref())
    }
}

/// [`wait_for`] with [`BOOT_BUDGET`], saying so when the budget ran out.
fn read_in_time(boot: oneshot::Receiver<BootData>) -> Option<BootData> {
    let boot = wait_for(boot, BOOT_BUDGET);
    if boot.is_none() {
        tracing::info!("the session was not read in time: the window asks for it");
    }
    boot
}

/// Creates the main window from its entry in `tauri.conf.json`
/// (`"create": false` there), with `boot` handed to its page when known.
///
/// # Errors
/// When the configuration has no main window or the window cannot be built.
pub fn create_main_window<R: Runtime>(
    app: &AppHandle<R>,
    boot: Option<&BootData>,
) -> Result<WebviewWindow<R>, Box<dyn std::error::Error>> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == MAIN_WINDOW)
        .cloned()
        .ok_or("tauri.conf.json has no \"main\" window")?;
    let mut builder = WebviewWindowBuilder::from_config(app, &config)?;
    match boot.map(boot_script).transpose() {
        Ok(Some(script)) => builder = builder.initialization_script(script),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "could not write the boot data"),
    }
    let window = builder.build()?;
    if !crate::env_flag(GPU_RENDERING_VAR) {
        render_on_cpu(&window)?;
    }
    Ok(window)
}

/// Adds [`boot_script`] to a window that is already built, for the document
/// its web process has not created yet.
#[cfg(target_os = "linux")]
fn add_boot_script<R: Runtime>(
    window: &WebviewWindow<R>,
    boot: &BootData,
) -> Result<(), Box<dyn std::error::Error>> {
    let script = boot_script(boot)?;
    window.with_webview(move |webview| {
        use webkit2gtk::{
            UserContentInjectedFrames, UserContentManagerExt, UserScript, UserScriptInjectionTime,
            WebViewExt,
        };
        // As wry adds Tauri's own initialization scripts.
        match webview.inner().user_content_manager() {
            Some(manager) => manager.add_script(&UserScript::new(
                &script,
                UserContentInjectedFrames::TopFrame,
                UserScriptInjectionTime::Start,
                &[],
                &[],
            )),
            None => tracing::warn!("the webview has no user content manager: no boot data"),
        }
    })?;
    Ok(())
}

/// Other platforms build the window with the script ([`open_main_window`]).
#[cfg(not(target_os = "linux"))]
fn add_boot_script<R: Runtime>(
    _window: &WebviewWindow<R>,
    _boot: &BootData,
) -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}

/// The variable that has the window composite its page with OpenGL (`1`)
/// instead of drawing it on the CPU, see [`render_on_cpu`].
pub const GPU_RENDERING_VAR: &str = "PASSKEYS_GPU_RENDERING";

/// Has WebKitGTK draw the page on the CPU instead of compositing it with
/// OpenGL (hardware acceleration policy `never`). The default on Linux.
///
/// GPU compositing costs the web process an OpenGL driver, its shader
/// compiler and a texture per layer: about 70 MiB of the app's 290 MiB where
/// the driver is Mesa's software one (`docs/benchmarks.md`), for a page that
/// has nothing to animate. Under this policy a page that does not change has
/// no new frames, so a WebDriver screenshot (which waits for the next one)
/// waits for the page to change: the end-to-end tests nudge it.
#[cfg(target_os = "linux")]
fn render_on_cpu<R: Runtime>(window: &WebviewWindow<R>) -> tauri::Result<()> {
    window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = webview.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    })
}

/// Other platforms' webviews choose their rendering themselves.
#[cfg(not(target_os = "linux"))]
fn render_on_cpu<R: Runtime>(_window: &WebviewWindow<R>) -> tauri::Result<()> {
    Ok(())
}

/// Whether the window has a screen to open on. On Linux that means an X
/// (`DISPLAY`) or Wayland (`WAYLAND_DISPLAY`) display: without one (over SSH,
/// in a container) the windowing library would panic, so the app says so in
/// one line instead and points to the command line. Elsewhere there always
/// is one.
///
/// # Errors
/// The line to print when there is no display.
pub fn display_available(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let set = |name: &str| var(name).is_some_and(|value| !value.is_empty());
    if set("DISPLAY") || set("WAYLAND_DISPLAY") {
        Ok(())
    } else {
        Err(
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set); \
             use the command line instead: passkeys-desktop --help"
                .to_owned(),
        )
    }
}

/// Whether the system has the webview the window is drawn in. On Windows
/// that is Microsoft Edge WebView2 (the installer brings it; Windows 11
/// has it): without it the window could not open, so the app says so in one
/// line and points to the command line, which needs no webview. Linux's
/// WebKitGTK is a dependency of the packages, and macOS always has WKWebView.
///
/// # Errors
/// The line to print when there is no webview.
#[cfg(windows)]
pub fn webview_available() -> Result<(), String> {
    tauri::webview_version().map(drop).map_err(|error| {
        let error = error.to_string().replace(['\r', '\n'], " ");
        format!(
            "the window needs Microsoft Edge WebView2, which is not installed ({}); \
             install it from https://developer.microsoft.com/microsoft-edge/webview2/ \
             or use the command line instead: passkeys-desktop --help",
            error.trim()
        )
    })
}

/// Linux and macOS: the webview is always there (see the Windows variant).
///
/// # Errors
/// Never.
#[cfg(not(windows))]
pub fn webview_available() -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use passkeys_core::{Account, ErrorKind};

    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn without_a_display_the_window_says_so_in_one_line() {
        let none = |_: &str| None;
        let message = display_available(none).unwrap_err();
        assert!(!message.contains('\n'));
        assert!(message.contains("passkeys-desktop --help"), "{message}");
        let empty = |_: &str| Some(std::ffi::OsString::new());
        assert!(display_available(empty).is_err());
        for name in ["DISPLAY", "WAYLAND_DISPLAY"] {
            let one = |asked: &str| (asked == name).then(|| std::ffi::OsString::from(":0"));
            assert!(display_available(one).is_ok(), "{name}");
        }
    }

    #[test]
    fn boot_data_is_what_the_session_command_answers() {
        let signed_in = BootData::Session(SessionState::SignedIn {
            account: Account {
                subject: "usr_1".into(),
                name: Some("Ada".into()),
                email: Some("ada@example.com".into()),
                environment: "https://env.example.com".into(),
            },
        });
        assert_eq!(
            serde_json::to_value(&signed_in).unwrap(),
            serde_json::json!({"session": {"state": "signedIn", "account": {
                "subject": "usr_1", "name": "Ada", "email": "ada@example.com",
                "environment": "https://env.example.com"}}})
        );
        assert_eq!(
            serde_json::to_value(BootData::Session(SessionState::SignedOut)).unwrap(),
            serde_json::json!({"session": {"state": "signedOut"}})
        );
        let error = BootData::from(Err(UiError {
            kind: ErrorKind::Keychain,
            message: "The keychain is locked.".into(),
        }));
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"error": {"kind": "keychain", "message": "The keychain is locked."}})
        );
    }

    #[test]
    fn boot_script_defines_the_data_once_per_window() {
        let script = boot_script(&BootData::Session(SessionState::SignedOut)).unwrap();
        assert!(script.contains(r#"window.__PASSKEYS_BOOT__ = {"session":{"state":"signedOut"}};"#));
        assert!(
            script.contains(r#"sessionStorage.getItem("passkeys-boot-used") !== null) return;"#)
        );
        assert!(script.contains(r#"sessionStorage.setItem("passkeys-boot-used", "1");"#));
    }

    #[test]
    fn boot_script_keeps_hostile_text_inside_its_string() {
        let boot = BootData::Error(UiError {
            kind: ErrorKind::Config,
            message: "\"; alert(1); //\n</script>\u{2028}".into(),
        });
        let script = boot_script(&boot).unwrap();
        let json = script
            .split("window.__PASSKEYS_BOOT__ = ")
            .nth(1)
            .and_then(|rest| rest.split(";\n})();").next())
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(parsed, serde_json::to_value(&boot).unwrap());
    }

    #[test]
    fn boot_data_sent_in_time_is_handed_on_and_none_without_it() {
        let (sender, receiver) = oneshot::channel();
        sender
            .send(BootData::Session(SessionState::SignedOut))
            .unwrap();
        assert_eq!(
            wait_for(receiver, Duration::ZERO),
            Some(BootData::Session(SessionState::SignedOut))
        );

        let (_sender, receiver) = oneshot::channel::<BootData>();
        assert_eq!(wait_for(receiver, Duration::ZERO), None);

        let (sender, receiver) = oneshot::channel::<BootData>();
        drop(sender);
        assert_eq!(wait_for(receiver, BOOT_BUDGET), None);
    }
}
