//! `--exit-on-stdin-close`: the binary stops when its parent closes the pipe
//! on its stdin, and keeps serving while the pipe is open.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts the binary with `--in-memory --no-admin --exit-on-stdin-close` and
/// a piped stdin; returns it and its base URL.
fn start_emulator() -> (Child, url::Url) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--in-memory",
            "--no-admin",
            "--exit-on-stdin-close",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = url::Url::parse(lines.next().expect("a first line").unwrap().trim()).unwrap();
    (child, base)
}

#[tokio::test]
async fn stops_when_stdin_closes() {
    // Given the emulator started with a piped stdin and the flag
    let (mut child, base) = start_emulator();

    // Then it serves while the pipe is open
    let discovery = reqwest::get(base.join(".well-known/openid-configuration").unwrap())
        .await
        .unwrap();
    assert!(discovery.status().is_success());
    assert!(child.try_wait().unwrap().is_none());

    // When the parent closes the pipe
    drop(child.stdin.take());

    // Then it exits on its own, successfully (the wait is bounded so that a
    // regression fails instead of hanging)
    let mut status = None;
    for _ in 0..600 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(status) = status else {
        child.kill().unwrap();
        panic!("the emulator did not stop after its stdin closed");
    };
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn admin_routes_are_off_with_no_admin() {
    let (mut child, base) = start_emulator();
    let answer = reqwest::Client::new()
        .get(base.join("_admin/passkeys").unwrap())
        .bearer_auth("")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::FORBIDDEN);
    child.kill().unwrap();
    child.wait().unwrap();
}
