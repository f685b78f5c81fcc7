//! A fresh clone has no `ui/dist`: `cargo build` must stop with one line
//! naming the command that builds the UI, not a proc-macro panic. This runs
//! the app's real build script (the one cargo compiled for this test run)
//! against a package folder without the built UI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

/// The newest compiled build script of this package (next to the test
/// binary's `deps/` folder, in `build/passkeys-desktop-*/`).
fn build_script() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    std::fs::read_dir(profile_dir.join("build"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("passkeys-desktop-")
        })
        .map(|entry| entry.path().join("build-script-build"))
        .filter(|path| path.is_file())
        .max_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
        .expect("cargo compiled the app's build script")
}

#[test]
fn without_the_built_ui_the_build_stops_with_one_line_naming_the_command() {
    let fresh_clone = tempfile::tempdir().unwrap();
    let output = Command::new(build_script())
        .env("CARGO_MANIFEST_DIR", fresh_clone.path())
        .current_dir(fresh_clone.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("cargo::error="))
        .collect();
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(
        errors[0].contains("npm --prefix ui run build"),
        "{}",
        errors[0]
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Nothing else was generated for a build that cannot succeed.
    assert!(!stdout.contains("cargo:rustc-env"), "{stdout}");
}
