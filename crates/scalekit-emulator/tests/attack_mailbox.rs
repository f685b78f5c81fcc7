//! Another program on the machine that knows a person's email address reads
//! no sign-in code from the dev mailbox: only whoever started the emulator
//! (and so read the mailbox's address, with this run's key, from its
//! standard output) does. A code read there would sign the person in, and a
//! fresh sign-in is also the proof of a recent sign-in the broker asks for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use scalekit_emulator::testing::{self, browser_client, hidden_field};
use scalekit_emulator::DevMailbox;
use url::Url;

const VICTIM: &str = "victim@example.com";

/// The binary as the app starts it (its own data folder, no admin routes,
/// ends with its stdin); returns it, its base URL (first stdout line) and
/// what it printed second.
fn start_binary(dir: &std::path::Path) -> (Child, Url, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalekit-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--no-admin",
            "--exit-on-stdin-close",
        ])
        .arg("--data")
        .arg(dir.join("emulator.db"))
        .arg("--client-secret-file")
        .arg(dir.join("broker-client-secret"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = Url::parse(&lines.next().unwrap().unwrap()).unwrap();
    let second = lines.next().unwrap().unwrap();
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, base, second)
}

/// A sign-in code sent to `email`, as the person's own sign-in asks for one.
async fn request_code(base: &Url, email: &str) {
    let browser = browser_client().unwrap();
    let page = browser
        .get(base.join("/ui/login").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let sent = browser
        .post(base.join("/ui/login/email").unwrap())
        .form(&[("csrf", csrf.as_str()), ("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_local_program_that_knows_the_email_reads_no_code_and_the_starter_does() {
    // Given the emulator started as the app starts it, and a code sent to
    // the person
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, printed) = start_binary(dir.path());
    request_code(&base, VICTIM).await;

    // When another local program asks the mailbox for that address, at the
    // old address, with no key, a made-up key or a key of the wrong length
    let http = reqwest::Client::new();
    let port = base.port().unwrap();
    let guesses = [
        format!("/_dev/mailbox?email={VICTIM}"),
        "/_dev/mailbox".to_owned(),
        format!("/_dev/mailbox/?email={VICTIM}"),
        format!("/_dev/mailbox/guess?email={VICTIM}"),
        format!("/_dev/mailbox/{}?email={VICTIM}", "A".repeat(43)),
    ];
    for path in guesses {
        for host in ["localhost", "127.0.0.1"] {
            let url = format!("http://{host}:{port}{path}");
            let answer = http.get(&url).send().await.unwrap();
            // Then it gets 404 and no message
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{url}");
            let body = answer.text().await.unwrap();
            assert!(!body.contains("code") && !body.contains(VICTIM), "{body}");
        }
    }
    // (the old address says where the new one is)
    let old = http
        .get(base.join(&format!("/_dev/mailbox?email={VICTIM}")).unwrap())
        .send()
        .await
        .unwrap();
    let message = old.text().await.unwrap();
    assert!(message.contains("printed after its base URL"), "{message}");

    // And the one who started it reads the code at the address it printed
    let mailbox = DevMailbox::parse(&printed).unwrap();
    assert_eq!(mailbox.base_url(), &base);
    let code = testing::latest_code(&http, &mailbox, VICTIM)
        .await
        .unwrap()
        .expect("the code, for the one who started the emulator");
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    // (every address at once, without `email`)
    let all: serde_json::Value = http
        .get(mailbox.messages_url(None))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["messages"][0]["to"], VICTIM);
    child.kill().unwrap();
    child.wait().unwrap();

    // When it starts again on the same data, the old address is no key
    let (mut again, base, printed_again) = start_binary(dir.path());
    assert_ne!(printed_again, printed, "a key is made at each start");
    let old_key = mailbox.secret_url();
    let old_key = base.join(&old_key[url::Position::BeforePath..]).unwrap();
    let answer = http.get(old_key).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    again.kill().unwrap();
    again.wait().unwrap();
}
