//! The admin token never reaches the emulator's output: anyone who can read
//! a log (a file, a terminal, another user's scrollback) would hold the
//! `/_admin` routes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

/// Runs the binary with `RUST_LOG=trace` and `args` (plus `env`), calls the
/// admin route with `bearer`, stops it and returns everything it wrote but
/// its second line (the dev mailbox's address, which carries a key of its
/// own: `attack_mailbox.rs`).
async fn output_of_a_run(args: &[&str], env: &[(&str, &str)], bearer: &str) -> (u16, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"));
    command
        .args(["--listen", "127.0.0.1:0", "--in-memory"])
        .args(args)
        .env("RUST_LOG", "trace")
        .env_remove("SCALEKIT_EMULATOR_ADMIN_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = url::Url::parse(first.trim()).unwrap();
    let mut mailbox = String::new();
    stdout.read_line(&mut mailbox).unwrap();
    let mailbox = scalekit_emulator::DevMailbox::parse(&mailbox).unwrap();
    assert!(!mailbox.has_key(bearer));
    let status = reqwest::Client::new()
        .get(base.join("_admin/passkeys").unwrap())
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    child.kill().unwrap();
    child.wait().unwrap();
    let mut output = first;
    stdout.read_to_string(&mut output).unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    (status, output)
}

#[tokio::test]
async fn the_admin_token_is_never_logged() {
    let token = format!("adm-{}", uuid::Uuid::new_v4().simple());
    // Given a token on the command line, then in the environment
    let (status, output) = output_of_a_run(&["--admin-token", &token], &[], &token).await;
    // Then it works and appears nowhere in stdout or stderr at trace level
    assert_eq!(status, 200, "{output}");
    assert!(!output.contains(&token), "{output}");
    let (status, output) =
        output_of_a_run(&[], &[("SCALEKIT_EMULATOR_ADMIN_TOKEN", &token)], &token).await;
    assert_eq!(status, 200, "{output}");
    assert!(!output.contains(&token), "{output}");

    // Given no token at all: the random one is not printed either (no word
    // that long in the output), and it says how to set one
    let (status, output) = output_of_a_run(&[], &[], "guess").await;
    assert_eq!(status, 401, "{output}");
    assert!(output.contains("--admin-token"), "{output}");
    let longest = output
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest < 32, "a token-like word in: {output}");
}
