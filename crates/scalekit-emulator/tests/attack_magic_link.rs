//! A magic link mailed for someone else's authorization request. Whoever
//! starts a request picks where its code goes (their own loopback port, with
//! their own PKCE verifier) and can have the link sent to anyone; the link
//! must not hand that request a code in whatever browser opens it. For a
//! native client's request it asks "Continue as … to <app>?" first, naming
//! where the code goes, as a live session's request does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hosted_support;

use hosted_support::{hidden_fields, location, param, Env, CLIENT};
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use scalekit_emulator::testing::{self, CodeFlow};

const VICTIM: &str = "victim@example.com";
const ATTACKER_REDIRECT: &str = "http://127.0.0.1:6666/callback";
const ATTACKER_VERIFIER: &str = "attacker-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

#[tokio::test]
async fn a_magic_link_asks_before_a_code_and_names_where_it_goes() {
    // Given an attacker's authorization request (their port, their PKCE)
    // for which the link is mailed to the person
    let env = Env::start().await;
    let attack = CodeFlow::new(&env.base)
        .with_client(CLIENT, ATTACKER_REDIRECT)
        .with_state("attacker-state")
        .with_verifier(ATTACKER_VERIFIER);
    let (_, login) = env.login_page(&attack.authorize_url().unwrap()).await;
    let sent = env.submit_email(&login, VICTIM).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let link = testing::latest_link(&env.http, &env.mailbox, VICTIM)
        .await
        .unwrap()
        .unwrap();

    // When the person opens it in their own browser
    let person = env.other_browser();
    let opened = person.get(&link).send().await.unwrap();

    // Then they get "Continue as … to the app?" naming the attacker's
    // loopback port, and no code
    assert_eq!(opened.status(), StatusCode::OK);
    assert!(opened.headers().get(LOCATION).is_none());
    let page = opened.text().await.unwrap();
    assert!(
        page.contains("Continue as victim@example.com to Passkeys Desktop (demo)?"),
        "{page}"
    );
    assert!(
        page.contains("id=\"redirect-target\">127.0.0.1:6666</strong>"),
        "{page}"
    );
    assert!(!page.contains("code="), "{page}");

    // And the page's form works in no other browser (the attacker's, with
    // its own CSRF cookie)
    let form = hidden_fields(&page, &["csrf", "token"]);
    let stolen = env.post_form("/ui/magic", &form).await;
    assert_eq!(stolen.status(), StatusCode::FORBIDDEN);
    assert!(stolen.headers().get(LOCATION).is_none());

    // When the person presses Continue
    let continued = person
        .post(env.url("/ui/magic"))
        .form(&form)
        .send()
        .await
        .unwrap();

    // Then, and only then, the request's redirect gets a code
    let callback = location(&continued, &env.base);
    assert!(
        callback.as_str().starts_with(ATTACKER_REDIRECT),
        "{callback}"
    );
    assert_eq!(param(&callback, "state").as_deref(), Some("attacker-state"));
    assert!(param(&callback, "code").is_some(), "{callback}");
    // and the link is used up
    let again = person.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_continue_page_of_a_session_names_the_redirects_host_and_port_or_scheme() {
    // Given a browser signed in
    let env = Env::start().await;
    env.sign_in("ann@example.com", "first").await;
    let cases = [
        ("http://127.0.0.1:53123/callback", "127.0.0.1:53123"),
        ("dev.passkeys.desktop:/callback", "dev.passkeys.desktop:"),
    ];
    for (redirect_uri, shown) in cases {
        // When the native client asks again with this redirect
        let flow = CodeFlow::new(&env.base).with_client(CLIENT, redirect_uri);
        let (_, page) = env.login_page(&flow.authorize_url().unwrap()).await;
        // Then "Continue as" says where the code goes
        assert!(page.contains("Continue as ann@example.com"), "{page}");
        assert!(
            page.contains(&format!("id=\"redirect-target\">{shown}</strong>")),
            "{redirect_uri}: {page}"
        );
    }
}
