//! The installers' configuration, per system, checked where it can be here:
//! the sidecars the bundler ships are the binaries the app starts, the
//! deep-link scheme is the app's, Windows installs per user with WebView2's
//! bootstrapper embedded, macOS names its minimum version, and the Linux
//! desktop file passes the link to the app.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passkeys_headless::local_servers::{BROKER_BINARY, EMULATOR_BINARY};
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn the_bundled_sidecars_are_the_binaries_the_app_starts() {
    let bundle = json(include_str!("../tauri.bundle.conf.json"));
    let sidecars: Vec<&str> = bundle["bundle"]["externalBin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        sidecars,
        [
            format!("binaries/{EMULATOR_BINARY}"),
            format!("binaries/{BROKER_BINARY}")
        ]
    );
}

#[test]
fn the_deep_link_scheme_is_the_apps_own_on_every_system() {
    let config = json(include_str!("../tauri.conf.json"));
    // The deep-link plugin registers these per user at run time (Linux,
    // Windows: HKCU) and the bundler writes them into the macOS Info.plist
    // (CFBundleURLTypes) and the Linux desktop file (MimeType).
    assert_eq!(
        config["plugins"]["deep-link"]["desktop"]["schemes"],
        serde_json::json!([passkeys_core::APP_IDENTIFIER])
    );
    assert_eq!(config["identifier"], passkeys_core::APP_IDENTIFIER);
    let redirect = url::Url::parse(passkeys_core::DEFAULT_DEEP_LINK_REDIRECT_URI).unwrap();
    assert_eq!(redirect.scheme(), passkeys_core::APP_IDENTIFIER);
}

#[test]
fn windows_installs_per_user_with_the_webview2_bootstrapper_embedded() {
    let windows = &json(include_str!("../tauri.conf.json"))["bundle"]["windows"];
    assert_eq!(windows["nsis"]["installMode"], "currentUser");
    assert_eq!(windows["webviewInstallMode"]["type"], "embedBootstrapper");
    assert_eq!(windows["webviewInstallMode"]["silent"], true);
}

#[test]
fn macos_names_its_minimum_version() {
    let macos = &json(include_str!("../tauri.conf.json"))["bundle"]["macOS"];
    assert_eq!(macos["minimumSystemVersion"], "10.15");
}

#[test]
fn the_linux_desktop_file_passes_the_link_and_claims_the_scheme() {
    let config = json(include_str!("../tauri.conf.json"));
    let template = include_str!("../src-tauri/linux/passkeys-desktop.desktop");
    for kind in ["deb", "rpm"] {
        let linux = &config["bundle"]["linux"][kind];
        assert_eq!(
            linux["desktopTemplate"],
            "src-tauri/linux/passkeys-desktop.desktop"
        );
        assert_eq!(
            linux["files"]["/usr/share/metainfo/dev.passkeys.desktop.metainfo.xml"],
            "src-tauri/linux/dev.passkeys.desktop.metainfo.xml"
        );
    }
    assert!(template.lines().any(|line| line == "Exec={{exec}} %u"));
    assert!(template.contains("MimeType={{mime_type}};"));
    let metainfo = include_str!("../src-tauri/linux/dev.passkeys.desktop.metainfo.xml");
    assert!(metainfo.contains(&format!("<id>{}</id>", passkeys_core::APP_IDENTIFIER)));
}
