//! Generates the app's permissions: one `allow-<command>` per command, so the
//! capability file can grant exactly the commands the app has.

/// Must name the same commands as `commands::COMMANDS` (a unit test checks it).
const COMMANDS: &[&str] = &[
    "session",
    "sign_in",
    "cancel_sign_in",
    "sign_out",
    "list_passkeys",
    "rename_passkey",
    "remove_passkey",
    "add_passkey",
    "environment",
    "app_ready",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
