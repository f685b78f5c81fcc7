//! Issue 13: pointed at an environment with no passkeys broker configured,
//! sign-in still works, and the passkeys panel says plainly that managing
//! passkeys needs the organisation's broker, offering to manage them in the
//! browser, so that a person is never stuck.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passkeys_e2e::flows;
use passkeys_e2e::world::{ApiMode, Redirect, World};

const EMAIL: &str = "lin@example.com";

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn without_a_broker_the_window_offers_to_manage_passkeys_in_the_browser() {
    // Given an app configured with an environment and no passkeys broker
    let mut world = World::start_with("no-broker", ApiMode::NoBroker);
    assert!(!world
        .app_config(Redirect::Loopback)
        .env
        .iter()
        .any(|(key, _)| key == "PASSKEYS_API_URL"));
    world.launch_app(Redirect::Loopback);
    world.app().wait_visible("signed-out");

    // When the person signs in
    flows::sign_in_with_email_code(&world, "1", EMAIL, Redirect::Loopback);

    // Then the passkeys panel explains, with no error styling and no retry
    let message =
        world
            .app()
            .wait_text("error-message", "why passkeys are managed elsewhere", |t| {
                t.contains("broker")
            });
    assert!(message.contains("browser"), "{message}");
    world.app().wait_visible("passkeys-in-browser");
    assert!(world.app().find("retry").is_none(), "nothing to retry");
    world.shot_window("1-no-broker-configured");

    // And "Manage passkeys in the browser" opens the environment's passkeys page
    world.app().click("manage-in-browser");
    let page = world.inbox.next("the passkeys page");
    assert_eq!(
        page,
        format!("{}/ui/profile/passkeys", world.emulator.base())
    );
}
