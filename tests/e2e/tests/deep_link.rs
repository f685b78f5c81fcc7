//! Issue 4, step 6: the deep-link sign-in. The app is configured for its
//! private-use scheme; the browser's redirect to it reaches the running app
//! the way the OS delivers it on Linux and Windows — a second launch of the
//! app with the URL as its argument, forwarded by the single-instance
//! plugin. A forged link (wrong `state`) is refused with a notice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passkeys_e2e::flows::{self, deliver_deep_link, query_param, start_sign_in};
use passkeys_e2e::hosted;
use passkeys_e2e::page::wait_visible;
use passkeys_e2e::wait::{wait_for, UI_TIMEOUT};
use passkeys_e2e::world::{Redirect, World, DEEP_LINK_SCHEME};

const EMAIL: &str = "grace@example.com";

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn a_callback_link_forwarded_by_a_second_launch_signs_in_and_a_forged_one_is_refused() {
    let mut world = World::start("deep-link");
    world.launch_app(Redirect::DeepLink);
    world.app().wait_visible("signed-out");
    let first_instance = world.app().app_pids();
    assert_eq!(
        first_instance.len(),
        1,
        "one app process: {first_instance:?}"
    );

    // Given a sign-in waiting for the browser, with the custom-scheme redirect,
    let callback_prefix = format!("{DEEP_LINK_SCHEME}:/callback");
    let authorize = start_sign_in(&world, "6", &callback_prefix);
    let browser = world.browser.session();
    browser
        .navigate(&authorize)
        .expect("open the authorize URL");
    wait_visible(browser, "#email");
    hosted::sign_in_with_email_code(&world.browser, &world.emulator, EMAIL);
    // the browser is sent to the app's scheme, which the OS would hand over.
    let callback = world.browser.wait_for_redirect_to(&callback_prefix);
    world.shot_browser("6-browser-redirected-to-app-scheme");
    let state = query_param(&callback, "state").expect("the callback carries the state");
    assert_eq!(
        query_param(&authorize, "state").as_deref(),
        Some(state.as_str())
    );
    assert!(
        query_param(&callback, "code").is_some(),
        "the callback carries a code: {callback}"
    );

    // When a forged link with a wrong state arrives through a second launch,
    let forged = callback.replace(&format!("state={state}"), "state=forged-by-someone-else");
    assert_ne!(forged, callback);
    deliver_deep_link(&world, &forged);
    // then it is refused with a notice, and the sign-in is still waiting.
    world
        .app()
        .wait_text("notice-text", "a notice refusing the link", |t| {
            let t = t.to_lowercase();
            t.contains("ignored") || t.contains("refused") || t.contains("not expected")
        });
    world.app().wait_visible("sign-in-waiting");
    world.shot_window("6-forged-link-refused");
    assert!(
        world.keychain_items().is_empty(),
        "the forged link stored nothing"
    );

    // When the real callback arrives the same way, the sign-in completes.
    deliver_deep_link(&world, &callback);
    world.app().wait_visible("signed-in");
    world
        .app()
        .wait_text("account-email", EMAIL, |t| t == EMAIL);
    world.shot_window("6-signed-in-by-deep-link");
    assert_eq!(world.stored_session()["account"]["email"], EMAIL);
    // Still the first instance: the second launches only forwarded.
    assert_eq!(
        world.app().app_pids(),
        first_instance,
        "the window is the first instance's"
    );
}

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn a_sign_in_link_while_signed_in_asks_and_the_browser_asks_continue_as_before_a_code() {
    // Given the app signed in by deep link, through the broker, and the
    // browser still signed in to the environment
    let mut world = World::start("continue-as");
    world.launch_app(Redirect::DeepLink);
    world.app().wait_visible("signed-out");
    let first = flows::sign_in_with_email_code(&world, "1", EMAIL, Redirect::DeepLink);
    world.app().wait_visible("passkeys-empty");
    let old_refresh = first["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    // When a `<scheme>://sign-in` link arrives, the window asks first,
    deliver_deep_link(&world, &format!("{DEEP_LINK_SCHEME}://sign-in"));
    world.app().wait_visible("confirm-dialog");
    world.shot_window("2-sign-in-again-asked");
    // and once the person confirms, the browser does not hand the app a code
    // silently: the environment asks "Continue as …?" first.
    world.app().click("confirm-sign-in-again");
    let authorize = world.inbox.next("the authorize URL");
    let browser = world.browser.session();
    browser
        .navigate(&authorize)
        .expect("open the authorize URL");
    let question = wait_visible(browser, "#continue-question");
    let text = browser.text(&question).unwrap_or_default();
    assert!(text.contains(EMAIL), "{text}");
    world.shot_browser("2-continue-as");
    assert_eq!(
        world.stored_session()["refresh_token"].as_str(),
        Some(old_refresh.as_str()),
        "nothing changed before Continue"
    );
    let continue_button = wait_visible(browser, "#continue-as");
    browser.click(&continue_button).expect("press Continue");
    flows::return_to_app(&world, Redirect::DeepLink);
    world.app().wait_visible("signed-in");

    // Then the app holds a new session, and the replaced one's refresh
    // token is revoked at the environment.
    let second = wait_for("the new session in the keychain", UI_TIMEOUT, || {
        let stored = world.stored_session();
        (stored["refresh_token"].as_str() != Some(old_refresh.as_str())).then_some(stored)
    });
    assert_eq!(second["account"]["email"], EMAIL);
    let old = world.emulator.introspect(&old_refresh);
    assert_eq!(old["active"], false, "{old}");
    world.shot_window("2-signed-in-again");
}
