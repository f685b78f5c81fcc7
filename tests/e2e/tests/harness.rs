//! The harness's own parts, checked before the scenarios rely on them: the
//! private keychain locks, Chromium's virtual authenticator creates a
//! passkey on a `localhost` page, and the accessibility check finds what it
//! must refuse.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use passkeys_e2e::a11y;
use passkeys_e2e::app::temp_dir;
use passkeys_e2e::browser::Browser;
use passkeys_e2e::keychain::Keychain;
use passkeys_e2e::page::{page_text, wait_visible};
use passkeys_e2e::wait::{wait_for, UI_TIMEOUT};
use passkeys_e2e::world::{Redirect, World};

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn the_private_keychain_stores_and_locks() {
    let dir = temp_dir("passkeys-e2e-keychain-");
    let keychain = Keychain::start(dir.path());
    let mut store = Command::new("secret-tool");
    store
        .args([
            "store",
            "--label=e2e",
            "service",
            "e2e-harness",
            "username",
            "someone",
        ])
        .envs(keychain.env())
        .stdin(Stdio::piped());
    let mut child = store.spawn().expect("secret-tool store");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a secret")
        .expect("write the secret");
    assert!(child.wait().expect("secret-tool store").success());

    let items = keychain.items("e2e-harness");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].secret.as_deref(), Some("a secret"));
    assert_eq!(
        items[0].attributes.get("username").map(String::as_str),
        Some("someone"),
        "{items:?}"
    );

    keychain.lock();
    let items = keychain.items("e2e-harness");
    assert_eq!(items.len(), 1, "locked items are still listed");
    assert_eq!(items[0].secret, None, "but their secret cannot be read");
}

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn chromium_creates_a_passkey_with_the_virtual_authenticator() {
    // A page on localhost (a secure context; WebAuthn refuses IP addresses).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let page = "<!doctype html><title>t</title><p id=out>waiting</p><script>\
        navigator.credentials.create({publicKey: {challenge: new Uint8Array(32), \
        rp: {name: 'e2e'}, user: {id: new Uint8Array(16), name: 'e2e', displayName: 'e2e'}, \
        pubKeyCredParams: [{type: 'public-key', alg: -7}], \
        authenticatorSelection: {residentKey: 'required', userVerification: 'required'}}})\
        .then(c => { document.getElementById('out').textContent = 'created ' + c.type; }, \
        e => { document.getElementById('out').textContent = 'failed ' + e; });</script>";
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0_u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    let dir = temp_dir("passkeys-e2e-chromium-");
    let browser = Browser::start(dir.path());
    let session = browser.session();
    session
        .navigate(&format!("http://localhost:{port}/"))
        .expect("navigate");
    wait_visible(session, "#out");
    let text = wait_for("the ceremony to finish", UI_TIMEOUT, || {
        let text = page_text(session);
        (!text.contains("waiting")).then_some(text)
    });
    assert_eq!(text.trim(), "created public-key");
    let credentials = browser.authenticator_credentials();
    assert_eq!(credentials.len(), 1, "{credentials:?}");
    assert_eq!(credentials[0]["isResidentCredential"], true);
    assert!(!session.screenshot().expect("screenshot").is_empty());
}

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn the_accessibility_check_sees_what_it_must_refuse() {
    // Given the app's window, which passes the check as it is
    let mut world = World::start("a11y-probe");
    world.launch_app(Redirect::Loopback);
    world.app().wait_visible("signed-out");
    let app = world.app();
    assert!(a11y::violations(app).is_empty());
    // When the page gets an image without a text alternative and a button
    // without a name (what a careless change would add)
    app.session()
        .execute(
            "const img = document.createElement('img');\
             img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';\
             document.body.appendChild(img);\
             document.body.appendChild(document.createElement('button'));\
             return true;",
            Vec::new(),
        )
        .expect("change the page");
    // Then axe-core names both rules
    let found: Vec<String> = a11y::violations(app)
        .iter()
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    assert!(found.contains(&"image-alt".to_owned()), "{found:?}");
    assert!(found.contains(&"button-name".to_owned()), "{found:?}");
}
