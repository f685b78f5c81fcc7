//! Kill the real binary with SIGKILL mid-run and start it again on the same
//! data file and client secret file: users, passkeys, signing keys, live
//! refresh tokens and the confidential client's secret survive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use scalekit_emulator::db::{self, Db, NewPasskey};
use scalekit_emulator::{testing, DevMailbox, Storage};
use serde_json::Value;
use url::Url;

/// Starts the binary on `data` with its client secret file beside it and
/// reads the base URL from its first stdout line, and the dev mailbox's
/// address (with this run's key) from the second.
fn spawn(data: &Path) -> (Child, Url, DevMailbox) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--client-secret-file")
        .arg(secret_file(data))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    // Keep draining stdout (mailbox lines) so the child never blocks on it.
    std::thread::spawn(move || for _ in stdout.lines() {});
    let base = Url::parse(first.trim()).unwrap();
    let mailbox = DevMailbox::parse(&second).unwrap();
    assert_eq!(mailbox.base_url(), &base);
    (child, base, mailbox)
}

fn secret_file(data: &Path) -> std::path::PathBuf {
    data.with_extension("client-secret")
}

/// A client-credentials token of `skc_demo`, with the secret from its file.
async fn client_token(http: &reqwest::Client, base: &Url, data: &Path) -> String {
    let secret = std::fs::read_to_string(secret_file(data)).unwrap();
    let body: Value = http
        .post(base.join("/oauth/token").unwrap())
        .basic_auth("skc_demo", Some(secret.trim()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"]
        .as_str()
        .expect("a client token")
        .to_owned()
}

async fn kid(http: &reqwest::Client, base: &Url) -> String {
    let jwks: Value = http
        .get(base.join("/keys").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"][0]["kid"].as_str().unwrap().to_owned()
}

async fn refresh(http: &reqwest::Client, base: &Url, token: &str) -> reqwest::Response {
    http.post(base.join("/oauth/token").unwrap())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "ntvc_demo"),
            ("refresh_token", token),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn data_survives_sigkill_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("emulator.sqlite3");

    // Given a running emulator with a signed-in user, a passkey and a refresh token
    let (mut child, base, mailbox) = spawn(&data);
    assert!(base.as_str().starts_with("http://localhost:"));
    let browser = testing::browser_client().unwrap();
    let tokens = testing::CodeFlow::new(&base)
        .tokens(
            &browser,
            testing::Login::EmailCode("ann@example.com", &mailbox),
        )
        .await
        .unwrap()
        .body;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let claims: Value = {
        use base64::Engine as _;
        let payload = tokens["id_token"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    let user_id = claims["sub"].as_str().unwrap().to_owned();
    let side = Db::open(&Storage::File(data.clone())).unwrap();
    let owner = user_id.clone();
    let passkey = side
        .call(move |c| {
            db::insert_passkey(
                c,
                NewPasskey {
                    user_id: owner,
                    credential_id: "AQIDBA==".into(),
                    passkey_json: "{}".into(),
                    display_name: Some("Survivor".into()),
                    ..NewPasskey::default()
                },
            )
        })
        .await
        .unwrap();
    drop(side);
    let kid_before = kid(&browser, &base).await;

    // When it is killed with SIGKILL and started again on the same file
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, base, _) = spawn(&data);

    // Then the signing key, the refresh token, the client secret, the user
    // and the passkey are there
    assert_eq!(kid(&browser, &base).await, kid_before);
    let response = refresh(&browser, &base, &refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut list_url = base.join("/api/v1/webauthn/credentials").unwrap();
    list_url.query_pairs_mut().append_pair("user_id", &user_id);
    let list: Value = browser
        .get(list_url)
        .header(
            AUTHORIZATION,
            format!("Bearer {}", client_token(&browser, &base, &data).await),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["credentials"][0]["id"], passkey.id.as_str());
    assert_eq!(list["credentials"][0]["user_id"], user_id.as_str());
    assert_eq!(list["credentials"][0]["display_name"], "Survivor");
    // The used refresh token stays used across the restart.
    assert_eq!(
        refresh(&browser, &base, &refresh_token).await.status(),
        StatusCode::BAD_REQUEST
    );

    child.kill().unwrap();
    child.wait().unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_binary_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = spawn(&dir.path().join("e.sqlite3"));
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(base.join("/keys").unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}
