//! Generates the app's permissions: one `allow-<command>` per command, so the
//! capability file can grant exactly the commands the app has.

/// Must name the same commands as `commands::COMMANDS` (a unit test checks it).
const COMMANDS: &[&str] = &[
    "session",
    "sign_in",
    "confirm_identity",
    "cancel_sign_in",
    "sign_out",
    "list_passkeys",
    "rename_passkey",
    "remove_passkey",
    "add_passkey",
    "list_sessions",
    "sign_out_session",
    "sign_out_other_sessions",
    "list_accounts",
    "switch_account",
    "sign_out_account",
    "remove_unconfigured_accounts",
    "environment",
    "diagnose",
    "fix_link_scheme",
    "app_ready",
];

/// What a fresh clone lacks before `cargo build`: the window's UI, which
/// `tauri::generate_context!` embeds from `ui/dist` (tauri.conf.json's
/// `frontendDist`). Without this check the build ends in a proc-macro panic.
const UI_NOT_BUILT: &str = "the window's UI is not built (ui/dist is missing): run `npm --prefix ui ci && npm --prefix ui run build`, or `scripts/run`, then build again";

fn main() {
    println!("cargo::rerun-if-changed=ui/dist/index.html");
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let index = std::path::Path::new(&manifest_dir).join("ui/dist/index.html");
    if !index.is_file() {
        println!("cargo::error={UI_NOT_BUILT}");
        return;
    }
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
