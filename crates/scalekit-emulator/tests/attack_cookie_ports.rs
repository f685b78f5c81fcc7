//! Browsers share `localhost` cookies among all ports: a program on another
//! local port can set a cookie a browser then sends to the emulator. The
//! session cookie's name carries the emulator's port, and only that name is
//! a session here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::Env;
use reqwest::header::{COOKIE, LOCATION};
use reqwest::StatusCode;

#[tokio::test]
async fn the_session_cookie_is_named_for_the_port_and_no_other_name_is_accepted() {
    // Given a signed-in browser
    let env = Env::start().await;
    let port = env.base.port().unwrap();
    let who = env.signed_in("ports@example.com").await;
    let (name, value) = who.cookie.split_once('=').unwrap();
    // Then its cookie is named for this port
    assert_eq!(name, format!("skemu_session_{port}"));
    let profile = |cookie: String| {
        let env = &env;
        async move {
            env.http
                .get(env.url("/ui/profile/passkeys"))
                .header(COOKIE, cookie)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(profile(who.cookie.clone()).await.status(), StatusCode::OK);
    // When the same value comes under another port's name, or the plain
    // name every port would share
    for other in [
        format!("skemu_session_{}", port.wrapping_add(1)),
        "skemu_session".to_owned(),
        format!("skemu_session_{port}0"),
    ] {
        let response = profile(format!("{other}={value}")).await;
        // Then it is no session: the login page
        assert_eq!(response.status(), StatusCode::FOUND, "{other}");
        let to = response.headers()[LOCATION].to_str().unwrap();
        assert!(to.starts_with("/ui/login"), "{other}: {to}");
    }
}

#[tokio::test]
async fn the_cookie_set_at_sign_in_is_http_only_lax_and_root_scoped_under_the_port_name() {
    let env = Env::start().await;
    let port = env.base.port().unwrap();
    let who = env.signed_in("flags@example.com").await;
    let cookie =
        env.emulator
            .state()
            .session_cookie(&scalekit_emulator::secret::SessionCookieValue::new(
                who.cookie.split_once('=').unwrap().1,
            ));
    let text = cookie.to_string();
    assert!(
        text.starts_with(&format!("skemu_session_{port}=")),
        "{text}"
    );
    assert!(text.contains("HttpOnly"), "{text}");
    assert!(text.contains("SameSite=Lax"), "{text}");
    assert!(text.contains("Path=/"), "{text}");
}
