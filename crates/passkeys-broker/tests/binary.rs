//! The `passkeys-broker` binary: base URL on the first stdout line, serves,
//! stops cleanly on SIGTERM (Windows: at the end of its stdin); the secret never comes from the command line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::*;

fn broker_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_passkeys-broker"))
}

#[tokio::test]
async fn binary_prints_its_url_serves_and_stops_when_asked() {
    // Given an environment and a broker process pointed at it
    let emulator = start_emulator().await;
    let user = create_user(&emulator, "ada@example.com").await;
    let key = add_passkey(&emulator, &user, "Laptop").await;
    let config_path =
        std::env::temp_dir().join(format!("broker-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(
        &config_path,
        format!(
            "environment_url = \"{}\"\nclient_id = \"{APP_CLIENT_ID}\"\nupstream_client_id = \"{BROKER_CLIENT_ID}\"\n",
            emulator.base_url()
        ),
    )
    .unwrap();
    let mut child = broker_command()
        .args([
            "--config",
            config_path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--exit-on-stdin-close",
        ])
        .stdin(Stdio::piped())
        .env("PASSKEYS_BROKER_CLIENT_SECRET", BROKER_CLIENT_SECRET)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // When it has started, its first stdout line is its base URL
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    let stdout_reader = tokio::task::spawn_blocking(move || {
        stdout.read_line(&mut first_line).unwrap();
        first_line
    });
    let base_url = stdout_reader.await.unwrap().trim().to_owned();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url:?}");

    // Then a user can list through it
    let response = http()
        .get(format!("{base_url}/api/v1/webauthn/credentials"))
        .bearer_auth(user_token(&emulator, &user).await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let listing: serde_json::Value = response.json().await.unwrap();
    assert_eq!(listing["credentials"][0]["id"], key.id.as_str());

    // And asked to stop, it exits cleanly
    stop(&mut child);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success(), "{:?}", output.status);

    // And neither the secret nor a bearer token reached its logs
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(!logs.contains(BROKER_CLIENT_SECRET), "secret in logs");
    assert!(!logs.contains("eyJ"), "a JWT in logs");

    std::fs::remove_file(&config_path).unwrap();
    emulator.shutdown().await;
}

/// SIGTERM, as a service manager stops it (the end of its stdin is not the
/// signal here: it stays open).
#[cfg(unix)]
fn stop(child: &mut Child) {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
}

/// Windows has no SIGTERM: the end of its stdin, as the app stops it
/// (`--exit-on-stdin-close`).
#[cfg(not(unix))]
fn stop(child: &mut Child) {
    drop(child.stdin.take());
}

#[test]
fn there_is_no_command_line_option_for_the_secret() {
    let output = broker_command().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(help.contains("--client-secret-file"));
    assert!(!help.contains("--client-secret "), "{help}");
    assert!(!help.contains("--client-secret\n"), "{help}");
}

#[test]
fn missing_secret_is_a_clear_startup_error() {
    let output = broker_command()
        .args([
            "--environment-url",
            "https://acme.scalekit.dev",
            "--client-id",
            "ntvc_app",
            "--upstream-client-id",
            "skc_broker",
        ])
        .env_remove("PASSKEYS_BROKER_CLIENT_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PASSKEYS_BROKER_CLIENT_SECRET"), "{stderr}");
}

#[tokio::test]
async fn with_exit_on_stdin_close_it_stops_when_its_parent_closes_the_pipe() {
    // Given a broker started as a child process, as the desktop app starts it
    let emulator = start_emulator().await;
    let mut child = broker_command()
        .args([
            "--environment-url",
            emulator.base_url().as_str(),
            "--client-id",
            APP_CLIENT_ID,
            "--upstream-client-id",
            BROKER_CLIENT_ID,
            "--listen",
            "127.0.0.1:0",
            "--exit-on-stdin-close",
        ])
        .env("PASSKEYS_BROKER_CLIENT_SECRET", BROKER_CLIENT_SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    assert!(
        first_line.starts_with("http://127.0.0.1:"),
        "{first_line:?}"
    );

    // When the parent closes its stdin
    drop(child.stdin.take());

    // Then it exits on its own, successfully
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    emulator.shutdown().await;
}
