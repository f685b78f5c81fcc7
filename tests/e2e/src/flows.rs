//! Steps several scenarios share, each asserted as it goes.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::hosted;
use crate::page::{wait_for_url, wait_visible};
use crate::process::ChildGuard;
use crate::wait::wait_for;
use crate::world::{Redirect, World, CLIENT_ID, DEEP_LINK_SCHEME};

/// Where the browser is sent back to the app with `redirect`: the loopback
/// listener's origin prefix, or the app's callback deep link.
pub fn callback_prefix(redirect: Redirect) -> String {
    match redirect {
        Redirect::Loopback => "http://127.0.0.1:".to_owned(),
        Redirect::DeepLink => format!("{DEEP_LINK_SCHEME}:/callback"),
    }
}

/// Waits until the browser is sent back to the app and, for a deep link,
/// delivers it as the desktop does (a second launch of the app with the
/// URL, forwarded to the running one). Returns the URL it was sent to.
///
/// # Panics
/// When the browser is not sent back in time.
#[track_caller]
pub fn return_to_app(world: &World, redirect: Redirect) -> String {
    let prefix = callback_prefix(redirect);
    match redirect {
        Redirect::Loopback => {
            wait_for_url(world.browser.session(), &prefix);
            world.browser.session().current_url().unwrap_or_default()
        }
        Redirect::DeepLink => {
            let link = world.browser.wait_for_redirect_to(&prefix);
            // Chromium cannot follow the app's scheme itself: leave the tab
            // on a blank page rather than on the failed navigation.
            let _ = world.browser.session().navigate("about:blank");
            deliver_deep_link(world, &link);
            link
        }
    }
}

/// Starts the app a second time with `url` as its argument, as the desktop
/// does for a registered scheme, and waits until it has handed the URL to
/// the running app and exited.
///
/// # Panics
/// When the second launch does not exit in time.
#[track_caller]
pub fn deliver_deep_link(world: &World, url: &str) {
    let config = world.app_config(Redirect::DeepLink);
    let mut command = Command::new(&config.binary);
    command
        .arg(url)
        .envs(config.env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut second = ChildGuard::spawn("the app's second instance", command);
    wait_for(
        "the second instance to forward the link and exit",
        Duration::from_secs(30),
        || second.has_exited().then_some(()),
    );
}

/// The query parameter `name` of `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Clicks "Sign in" in the window and returns the authorize URL the app
/// opened in the browser, checked: the environment's authorize endpoint,
/// the demo client, PKCE S256, a state, and `redirect_uri` starting with
/// `redirect_prefix`.
///
/// # Panics
/// When the window or the URL is not as expected.
#[track_caller]
pub fn start_sign_in(world: &World, step: &str, redirect_prefix: &str) -> String {
    let app = world.app();
    app.click("sign-in");
    let authorize = world.inbox.next("the authorize URL");
    assert!(
        authorize.starts_with(&format!("{}/oauth/authorize?", world.emulator.base())),
        "the app opened {authorize}, not the environment's authorize endpoint"
    );
    assert_eq!(
        query_param(&authorize, "client_id").as_deref(),
        Some(CLIENT_ID)
    );
    assert_eq!(
        query_param(&authorize, "response_type").as_deref(),
        Some("code")
    );
    assert_eq!(
        query_param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query_param(&authorize, "code_challenge").is_some_and(|c| c.len() >= 43));
    assert!(query_param(&authorize, "state").is_some_and(|s| !s.is_empty()));
    let redirect = query_param(&authorize, "redirect_uri").unwrap_or_default();
    assert!(
        redirect.starts_with(redirect_prefix),
        "redirect_uri {redirect} does not start with {redirect_prefix}"
    );
    app.wait_visible("sign-in-waiting");
    world.shot_window(&format!("{step}-waiting-for-browser"));
    authorize
}

/// Signs in (or up) with an emailed code through the window and the
/// browser, coming back by `redirect`, and waits until the window shows the
/// account. Returns the session the app stored in the keychain.
///
/// # Panics
/// When any part of it fails.
#[track_caller]
pub fn sign_in_with_email_code(
    world: &World,
    step: &str,
    email: &str,
    redirect: Redirect,
) -> Value {
    let authorize = start_sign_in(world, step, &callback_prefix(redirect));
    let browser = world.browser.session();
    browser
        .navigate(&authorize)
        .expect("open the authorize URL");
    wait_visible(browser, "#email");
    world.shot_browser(&format!("{step}-login-page"));
    let message = hosted::sign_in_with_email_code(&world.browser, &world.emulator, email);
    assert!(
        message["subject"].is_string(),
        "the code came by email: {message}"
    );
    return_to_app(world, redirect);
    world.shot_browser(&format!("{step}-browser-back-to-app"));
    let app = world.app();
    app.wait_visible("signed-in");
    app.wait_text("account-email", email, |text| text == email);
    world.stored_session()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_query_parameters() {
        let url = "dev.passkeys.desktop:/callback?code=a%2Bb&state=xyz";
        assert_eq!(query_param(url, "code").as_deref(), Some("a+b"));
        assert_eq!(query_param(url, "state").as_deref(), Some("xyz"));
        assert_eq!(query_param(url, "nonce"), None);
        assert_eq!(query_param("not a url", "code"), None);
    }
}
