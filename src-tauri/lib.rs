//! The desktop app: Tauri glue around `passkeys-core`.

/// Builds and runs the app.
pub fn run() {
    if let Err(error) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("passkeys-desktop: {error}");
        std::process::exit(1);
    }
}
