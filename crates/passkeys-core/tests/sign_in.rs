//! Sign-in against the emulator: loopback, deep link, cancel, timeout, taken
//! port; sign-out coming back by deep link.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, loopback_client, query, Delivery, Env, LoginBrowser, MemoryStore, EMAIL};
use passkeys_core::{
    Client, ClientOptions, DeepLinkAction, Error, ErrorKind, RedirectMode, SessionState,
    SignInProgress,
};
use url::Url;

#[tokio::test]
async fn sign_in_through_the_loopback() {
    // Given a signed-out client whose browser logs in on the emulator's pages
    let harness = Env::start().await;
    let (client, config, store, browser) = loopback_client(&harness, Delivery::Loopback).await;
    assert_eq!(client.session().await.unwrap(), SessionState::SignedOut);
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&progress);

    // When the user signs in
    let account = client
        .sign_in(move |step| seen.lock().unwrap().push(step))
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", browser.failures.lock().unwrap()));

    // Then the account comes from the verified ID token and is stored
    assert_eq!(account.email.as_deref(), Some(EMAIL));
    assert!(account.subject.starts_with("usr_"), "{}", account.subject);
    assert_eq!(
        client.session().await.unwrap(),
        SessionState::SignedIn {
            account: account.clone()
        }
    );
    let stored = store.session(&config).await.unwrap();
    assert_eq!(stored.account, account);
    assert!(stored.refresh_token.is_some());

    // And the authorization request was a PKCE S256 code flow to the loopback
    let authorize = browser.opened()[0].clone();
    let params = query(&authorize);
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], "ntvc_demo");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert!(params["state"].len() >= 16);
    assert!(params["nonce"].len() >= 16);
    assert!(params["scope"].split(' ').any(|s| s == "offline_access"));
    let redirect = Url::parse(&params["redirect_uri"]).unwrap();
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    assert_eq!(redirect.path(), "/callback");

    // And the browser saw the success page, the UI saw the progress, the port is free
    let pages = browser.loopback_pages.lock().unwrap().clone();
    assert!(pages[0].contains("You are signed in"), "{pages:?}");
    let steps = progress.lock().unwrap().clone();
    assert_eq!(
        steps[0],
        SignInProgress::WaitingForBrowser {
            authorize_url: authorize.to_string(),
            browser_opened: true
        }
    );
    assert_eq!(steps[1], SignInProgress::CompletingSignIn);
    std::net::TcpListener::bind(("127.0.0.1", redirect.port().unwrap())).unwrap();
}

#[tokio::test]
async fn sign_in_through_a_deep_link() {
    // Given the deep-link mode and a browser that hands the callback to "the OS"
    let harness = Env::start().await;
    let config = harness.deep_link_config();
    let store = Arc::new(MemoryStore::default());
    let (links, mut delivered) = tokio::sync::mpsc::unbounded_channel();
    let browser = LoginBrowser::new(&harness, Delivery::DeepLink(links));
    let client = client(
        config.clone(),
        store.clone(),
        browser.clone(),
        ClientOptions::default(),
    )
    .await;

    // A callback without a pending sign-in is refused.
    let early = client
        .handle_deep_link("dev.passkeys.desktop:/callback?code=c&state=s")
        .await
        .unwrap_err();
    assert_eq!(early.kind(), ErrorKind::InvalidInput);

    let signing_in = tokio::spawn({
        let client = client.clone();
        async move { client.sign_in(|_| {}).await }
    });
    let callback = delivered.recv().await.expect("the browser logged in");
    assert_eq!(callback.scheme(), "dev.passkeys.desktop");

    // When forged or foreign links arrive first, they are refused and change nothing
    let forged = callback.as_str().replace("state=", "state=x");
    let table = [
        forged,
        format!("{}&extra=1", callback),
        callback
            .as_str()
            .replace("dev.passkeys.desktop:/callback", "other.app:/callback"),
        callback.as_str().replace(":/callback", ":/elsewhere"),
        format!("{}&pad={}", callback, "a".repeat(10_000)),
    ];
    for link in &table {
        let error = client.handle_deep_link(link).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{link:.80}");
        assert!(error.to_string().contains("ignored"));
    }
    assert_eq!(
        client
            .handle_deep_link("dev.passkeys.desktop://sign-in")
            .await
            .unwrap(),
        DeepLinkAction::StartSignIn
    );

    // Then the real callback completes the pending sign-in
    assert_eq!(
        client.handle_deep_link(callback.as_str()).await.unwrap(),
        DeepLinkAction::CompletedSignIn
    );
    let account = signing_in.await.unwrap().unwrap();
    assert_eq!(account.email.as_deref(), Some(EMAIL));
    assert!(store.session(&config).await.is_some());

    // And replaying it finds no pending sign-in.
    let replay = client
        .handle_deep_link(callback.as_str())
        .await
        .unwrap_err();
    assert_eq!(replay.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        query(&browser.opened()[0])["redirect_uri"],
        "dev.passkeys.desktop:/callback"
    );
}

#[tokio::test]
async fn sign_out_comes_back_by_the_signed_out_deep_link() {
    // Given a client signed in by deep link
    let harness = Env::start().await;
    let config = harness.deep_link_config();
    let store = Arc::new(MemoryStore::default());
    let (links, mut delivered) = tokio::sync::mpsc::unbounded_channel();
    let browser = LoginBrowser::new(&harness, Delivery::DeepLink(links));
    let client = client(
        config.clone(),
        store.clone(),
        browser.clone(),
        ClientOptions::default(),
    )
    .await;
    let signing_in = tokio::spawn({
        let client = client.clone();
        async move { client.sign_in(|_| {}).await }
    });
    let callback = delivered.recv().await.expect("the browser logged in");
    client.handle_deep_link(callback.as_str()).await.unwrap();
    signing_in.await.unwrap().unwrap();

    // A signed-out link while signed in changes nothing
    let before = store.snapshot();
    assert_eq!(
        client
            .handle_deep_link("dev.passkeys.desktop:/signed-out")
            .await
            .unwrap(),
        DeepLinkAction::SignedOut
    );
    assert_eq!(store.snapshot(), before);
    assert!(matches!(
        client.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));

    // When the user signs out and the environment's end-session page redirects
    client.sign_out().await.unwrap();
    let logout = browser.opened().last().cloned().unwrap();
    assert_eq!(
        query(&logout)["post_logout_redirect_uri"],
        "dev.passkeys.desktop:/signed-out"
    );
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(logout)
        .send()
        .await
        .unwrap();
    assert!(page.status().is_redirection(), "{}", page.status());
    let location = page.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("dev.passkeys.desktop:/signed-out"),
        "{location}"
    );

    // Then the link the OS hands back is understood, and the app is signed out
    assert_eq!(
        client.handle_deep_link(&location).await.unwrap(),
        DeepLinkAction::SignedOut
    );
    assert!(store.is_empty());
    assert_eq!(client.session().await.unwrap(), SessionState::SignedOut);
    let with_state = "dev.passkeys.desktop:/signed-out?state=abc";
    assert_eq!(
        client.handle_deep_link(with_state).await.unwrap(),
        DeepLinkAction::SignedOut
    );
    assert_eq!(
        serde_json::to_value(DeepLinkAction::SignedOut).unwrap(),
        "signedOut"
    );
}

#[tokio::test]
async fn cancel_and_timeout_free_the_port() {
    let harness = Env::start().await;
    let store = Arc::new(MemoryStore::default());
    let browser = LoginBrowser::new(&harness, Delivery::Nothing);

    // Cancel: the sign-in ends with Cancelled, the port can be bound again.
    let config = harness.config(RedirectMode::Loopback { port: 0 });
    let client = client(
        config,
        store.clone(),
        browser.clone(),
        ClientOptions::default(),
    )
    .await;
    let (waiting_tx, waiting_rx) = tokio::sync::oneshot::channel();
    let waiting_tx = Mutex::new(Some(waiting_tx));
    let signing_in = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .sign_in(move |step| {
                    if let Some(tx) = waiting_tx.lock().unwrap().take() {
                        let _ = tx.send(step);
                    }
                })
                .await
        }
    });
    let SignInProgress::WaitingForBrowser { authorize_url, .. } = waiting_rx.await.unwrap() else {
        panic!("expected WaitingForBrowser first");
    };
    client.cancel_sign_in();
    let error = signing_in.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::Cancelled), "{error:?}");
    let redirect =
        Url::parse(&query(&Url::parse(&authorize_url).unwrap())["redirect_uri"]).unwrap();
    std::net::TcpListener::bind(("127.0.0.1", redirect.port().unwrap())).unwrap();

    // Timeout: nobody comes back within the configured time.
    let mut config = harness.config(RedirectMode::Loopback { port: 0 });
    config.sign_in_timeout = Duration::from_millis(300);
    let client = common::client(
        config,
        store.clone(),
        browser.clone(),
        ClientOptions::default(),
    )
    .await;
    let error = client.sign_in(|_| {}).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    let last = browser.opened().last().cloned().unwrap();
    let redirect = Url::parse(&query(&last)["redirect_uri"]).unwrap();
    std::net::TcpListener::bind(("127.0.0.1", redirect.port().unwrap())).unwrap();
    assert!(store.entries.lock().unwrap().is_empty());
}

/// A signed-out client whose loopback listens on the fixed `port`.
async fn client_on_port(
    harness: &Env,
    port: u16,
    delivery: Delivery,
) -> (Client, Arc<LoginBrowser>) {
    let config = harness.config(RedirectMode::Loopback { port });
    let browser = LoginBrowser::new(harness, delivery);
    let client = client(
        config,
        Arc::default(),
        browser.clone(),
        ClientOptions::default(),
    )
    .await;
    (client, browser)
}

#[tokio::test]
async fn a_taken_fixed_port_is_named() {
    let harness = Env::start().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let (client, browser) = client_on_port(&harness, port, Delivery::Nothing).await;
    let error = client.sign_in(|_| {}).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains(&port.to_string()));
    assert!(
        browser.opened().is_empty(),
        "no browser opened for a sign-in that cannot finish"
    );
}

#[tokio::test]
async fn a_fixed_free_port_is_used_exactly() {
    let harness = Env::start().await;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let (client, browser) = client_on_port(&harness, port, Delivery::Loopback).await;
    client.sign_in(|_| {}).await.unwrap();
    assert_eq!(
        query(&browser.opened()[0])["redirect_uri"],
        format!("http://127.0.0.1:{port}/callback")
    );
}
