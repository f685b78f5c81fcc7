//! Issue 16, "Where you're signed in": the app signed in by deep link (the
//! production redirect), the window lists the person's sessions through the
//! broker, this app's marked; a second sign-in in the
//! browser appears, and signing it out from the window ends it while the
//! app stays signed in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passkeys_e2e::flows;
use passkeys_e2e::hosted;
use passkeys_e2e::page::{wait_for_url, wait_visible};
use passkeys_e2e::wait::{wait_for, UI_TIMEOUT};
use passkeys_e2e::world::{Redirect, World};
use serde_json::json;

const EMAIL: &str = "sam@example.com";

/// The session ids the window lists, and the one marked "This app".
fn listed(world: &World) -> (Vec<String>, Option<String>) {
    let session = world.app().session();
    let ids: Vec<String> = session
        .execute(
            "return [...document.querySelectorAll('[data-testid=session-row]')].map((r) => r.dataset.sessionId);",
            Vec::new(),
        )
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect();
    let current = session
        .execute(
            "const r = document.querySelector('[data-testid=this-app]')?.closest('[data-testid=session-row]'); return r ? r.dataset.sessionId : null;",
            Vec::new(),
        )
        .unwrap()
        .as_str()
        .map(str::to_owned);
    (ids, current)
}

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn a_second_sign_in_is_listed_and_signing_it_out_from_the_window_ends_it() {
    let mut world = World::start("sessions");
    world.launch_app(Redirect::DeepLink);
    world.app().wait_visible("signed-out");
    // Given the app signed in (one session, this app's)
    flows::sign_in_with_email_code(&world, "1", EMAIL, Redirect::DeepLink);
    world.app().wait_visible("passkeys-empty");
    let (ids, current) = wait_for("the window to list this app's session", UI_TIMEOUT, || {
        let (ids, current) = listed(&world);
        (ids.len() == 1 && current.is_some()).then_some((ids, current))
    });
    let this_app = current.unwrap();
    assert_eq!(ids, std::slice::from_ref(&this_app));
    assert!(
        world.app().find("sign-out-session").is_none(),
        "no Sign out for this app's own session"
    );
    world.shot_window("1-one-session");

    // When the person also signs in on the environment's own page, in
    // another browser profile (the cookies cleared),
    let browser = world.browser.session();
    browser
        .cdp("Network.clearBrowserCookies", json!({}))
        .expect("clear the browser's cookies");
    let profile = format!("{}/ui/profile/passkeys", world.emulator.base());
    browser.navigate(&profile).expect("open the profile page");
    wait_visible(browser, "#email");
    hosted::sign_in_with_email_code(&world.browser, &world.emulator, EMAIL);
    wait_for_url(browser, &profile);
    wait_visible(browser, "#add-passkey");

    // then the window lists both once it is in front again,
    world.app().refocus();
    let (ids, current) = wait_for("the window to list two sessions", UI_TIMEOUT, || {
        let (ids, current) = listed(&world);
        (ids.len() == 2).then_some((ids, current))
    });
    assert_eq!(
        current.as_deref(),
        Some(this_app.as_str()),
        "this app's stays marked"
    );
    let other = ids.into_iter().find(|id| *id != this_app).unwrap();
    world.app().wait_visible("sign-out-others");
    world.shot_window("2-two-sessions");

    // When the person signs the other one out from the window,
    world.app().click("sign-out-session");
    world
        .app()
        .wait_text("notice-text", "that the session was signed out", |t| {
            t.starts_with("Signed out")
        });
    // then it is over at the environment, and its page asks to sign in,
    let ended = world.emulator.session(&other);
    assert_eq!(ended["status"], "revoked", "{ended}");
    browser.navigate(&profile).expect("reload the profile page");
    wait_visible(browser, "#email");
    // while the app is still signed in, listing its one session.
    let (ids, _) = wait_for("the window to list one session again", UI_TIMEOUT, || {
        let (ids, current) = listed(&world);
        (ids.len() == 1 && current.is_some()).then_some((ids, current))
    });
    assert_eq!(ids, [this_app]);
    world.app().wait_visible("signed-in");
    world.app().refocus();
    world.app().wait_visible("passkeys-empty");
    world.shot_window("3-other-session-signed-out");
}
