//! The desktop app: Tauri glue around `passkeys-core`.
//!
//! The same binary has two faces. With a subcommand (`status`, `sign-in`,
//! `sign-out`, `passkeys …`) it runs the core on the command line without any
//! window ([`passkeys_headless::cli`]); otherwise it opens the window ([`run_window`]).
//!
//! The window's plugins, in this order: single instance (a second launch
//! hands its deep link to this one and focuses the window), deep link
//! (`dev.passkeys.desktop:` callbacks and `dev.passkeys.desktop://sign-in`),
//! opener (the system browser).

pub mod commands;
pub mod first_paint;
pub mod flows;
pub mod ready_mark;
pub mod state;
pub mod system_browser;

use std::sync::Arc;

use tauri::{AppHandle, Manager, RunEvent, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;

use passkeys_headless::cli;

use crate::state::AppState;
use crate::system_browser::SystemBrowser;

/// Set to `1` to register the deep-link scheme with the OS at start-up in a
/// debug build (release builds always do on Linux and Windows).
pub const REGISTER_SCHEME_VAR: &str = "PASSKEYS_REGISTER_SCHEME";

/// Runs the command line when the arguments ask for it, else the window.
pub fn run() {
    ready_mark::mark_process_start();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if cli::is_cli_invocation(&args) {
        std::process::exit(cli::main(args, Arc::new(SystemBrowser)));
    }
    let window_can_open = first_paint::display_available(|name| std::env::var_os(name))
        .and_then(|()| first_paint::webview_available());
    if let Err(message) = window_can_open {
        eprintln!("passkeys-desktop: {message}");
        std::process::exit(cli::EXIT_FAILED);
    }
    run_window();
}

/// Builds and runs the window.
pub fn run_window() {
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            // With the `deep-link` feature the plugin has already handed the
            // arguments' deep link to the deep-link plugin (`on_open_url` below).
            flows::bring_to_front(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .manage(AppState::new(Arc::new(SystemBrowser)))
        .invoke_handler(commands::handler())
        .setup(|app| setup(app.handle()))
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("passkeys-desktop: {error}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        // The event loop ends the process without dropping the managed
        // state: stop the emulator child here (were this process to crash
        // instead, the child stops when its stdin closes).
        if let RunEvent::Exit = event {
            handle.state::<AppState>().stop_local_servers();
        }
    });
}

/// True when the environment variable `name` is `1` (the app's switches).
pub fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|value| value == "1")
}

/// False on Linux when the deep-link scheme's desktop entry and default
/// handler are already this binary's ([`passkeys_headless::scheme_registration::registration_needed`]).
#[cfg(target_os = "linux")]
fn scheme_registration_needed<R: Runtime>(app: &AppHandle<R>) -> bool {
    let (Ok(exe), Ok(data_dir), Ok(config_dir)) = (
        tauri::utils::platform::current_exe(),
        app.path().data_dir(),
        app.path().config_dir(),
    ) else {
        return true;
    };
    // The plugin's own rule: an AppImage registers its image, not the binary inside.
    let exec = app.env().appimage.map_or_else(
        || exe.to_string_lossy().into_owned(),
        |image| image.to_string_lossy().into_owned(),
    );
    // `plugins.deep-link.desktop` is one `{schemes}` or a list of them.
    let desktop = app
        .config()
        .plugins
        .0
        .get("deep-link")
        .and_then(|config| config.get("desktop"))
        .cloned()
        .unwrap_or_default();
    let protocols = match desktop {
        serde_json::Value::Array(list) => list,
        one => vec![one],
    };
    let schemes: Vec<String> = protocols
        .iter()
        .filter_map(|protocol| protocol.get("schemes")?.as_array())
        .flatten()
        .filter_map(|scheme| scheme.as_str().map(str::to_owned))
        .collect();
    passkeys_headless::scheme_registration::registration_needed(
        &data_dir,
        &config_dir,
        &exe,
        &exec,
        &schemes,
    )
}

/// Elsewhere always true: Windows' registry keys are cheap to write, and
/// macOS takes the scheme from the bundle's `Info.plist` (never registered
/// at run time, see `setup`).
#[cfg(not(target_os = "linux"))]
fn scheme_registration_needed<R: Runtime>(_app: &AppHandle<R>) -> bool {
    true
}

/// Starts the core in the background, listens for deep links, handles the
/// one this process may have been started with, and opens the main window
/// with the session when it is known within [`first_paint::BOOT_BUDGET`].
fn setup<R: Runtime>(app: &AppHandle<R>) -> Result<(), Box<dyn std::error::Error>> {
    let boot = first_paint::start_core(app);

    if ((cfg!(not(debug_assertions)) && cfg!(any(target_os = "linux", windows)))
        || env_flag(REGISTER_SCHEME_VAR))
        && scheme_registration_needed(app)
    {
        let handle = app.clone();
        // Writes a desktop entry and runs xdg-mime on Linux: off the start-up path.
        std::thread::spawn(move || {
            if let Err(error) = handle.deep_link().register_all() {
                tracing::warn!(%error, "could not register the deep-link scheme");
            }
        });
    }

    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            tauri::async_runtime::spawn(flows::handle_deep_link(handle.clone(), url.to_string()));
        }
    });
    // A link in this process's own arguments (the first launch) was read before
    // the listener above existed.
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        for url in urls {
            tauri::async_runtime::spawn(flows::handle_deep_link(app.clone(), url.to_string()));
        }
    }

    first_paint::open_main_window(app, boot)?;
    Ok(())
}
