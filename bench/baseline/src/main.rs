//! The benchmark baseline: a bare Tauri 2 window with the same Tauri version
//! and release profile as the app, and nothing else.
//!
//! It reports readiness exactly as the app does, so that `bench/run` measures
//! both the same way: the page calls the `app_ready` command once its first
//! frame is on screen; the time since the process started is written, in
//! milliseconds, to the file named by `PASSKEYS_READY_FILE`.

// Prevents an additional console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The environment variable naming the file the start-up time is written to.
const READY_FILE_VAR: &str = "PASSKEYS_READY_FILE";
/// Set to `1`, the window draws on the CPU (WebKitGTK's hardware acceleration
/// policy `never`) set the way the app sets it: the benchmark's like-for-like
/// baseline for the app's rendering. Unset, the window is Tauri's default.
const CPU_RENDERING_VAR: &str = "BARE_TAURI_CPU_RENDERING";

static PROCESS_START: OnceLock<Instant> = OnceLock::new();
static READY_RECORDED: AtomicBool = AtomicBool::new(false);

/// The page's first frame is on screen: records the start-up time once.
#[tauri::command]
fn app_ready() -> Result<(), String> {
    if READY_RECORDED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let elapsed = PROCESS_START
        .get()
        .map(Instant::elapsed)
        .unwrap_or_default();
    match std::env::var_os(READY_FILE_VAR) {
        Some(path) => write_ready_file(Path::new(&path), elapsed)
            .map_err(|error| format!("Could not write the start-up time: {error}.")),
        None => Ok(()),
    }
}

/// Writes then renames, so a watcher never reads half a number.
fn write_ready_file(path: &Path, elapsed: Duration) -> std::io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, format!("{:.3}\n", elapsed.as_secs_f64() * 1000.0))?;
    std::fs::rename(&partial, path)
}

/// WebKitGTK's hardware acceleration policy `never`, as the app sets it.
#[cfg(target_os = "linux")]
fn render_on_cpu(window: &tauri::WebviewWindow) -> tauri::Result<()> {
    window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = webview.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    })
}

/// Other platforms' webviews choose their rendering themselves.
#[cfg(not(target_os = "linux"))]
fn render_on_cpu(_window: &tauri::WebviewWindow) -> tauri::Result<()> {
    Ok(())
}

fn main() {
    PROCESS_START.get_or_init(Instant::now);
    let app = tauri::Builder::default()
        .setup(|app| {
            if std::env::var_os(CPU_RENDERING_VAR).is_some_and(|value| value == "1") {
                for window in tauri::Manager::webview_windows(app).into_values() {
                    render_on_cpu(&window)?;
                }
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![app_ready])
        .run(tauri::generate_context!());
    if let Err(error) = app {
        eprintln!("bare-tauri: {error}");
        std::process::exit(1);
    }
}
