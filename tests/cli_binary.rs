//! The binary never panics at a person: an unknown command is a usage error
//! listing the commands, and starting the window with no display says so in
//! one line and points to the command line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn run(args: &[&str], without_display: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_passkeys-desktop"));
    command.args(args);
    // No configuration of the person running the tests is read, nothing starts.
    let home = tempfile::tempdir().unwrap();
    command
        .env("PASSKEYS_CONFIG", home.path().join("none.toml"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("RUST_BACKTRACE", "1");
    if without_display {
        command.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    }
    command.output().unwrap()
}

#[test]
fn an_unknown_command_is_a_usage_error_listing_the_commands() {
    let output = run(&["doctr"], true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("doctr"), "{stderr}");
    for command in ["status", "sign-in", "sign-out", "passkeys", "doctor"] {
        assert!(stderr.contains(command), "lists {command}: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn the_window_without_a_display_says_so_in_one_line() {
    let output = run(&[], true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("display"), "{stderr}");
    assert!(stderr.contains("passkeys-desktop --help"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
