//! Issue 13: what `scripts/run` gives a newcomer from a fresh clone. With
//! nothing configured the app starts the emulator and the passkeys broker
//! beside itself as child processes; a person signs in, adds, renames and
//! removes a passkey, and every passkeys call goes through that broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passkeys_e2e::app::{broker_binary, emulator_binary};
use passkeys_e2e::emulator::Emulator;
use passkeys_e2e::flows::{query_param, return_to_app};
use passkeys_e2e::hosted;
use passkeys_e2e::page::wait_visible;
use passkeys_e2e::world::{Redirect, World, CLIENT_ID};
use url::Url;

const EMAIL: &str = "newcomer@example.com";
const NAME: &str = "My first passkey";

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn a_first_run_signs_in_and_manages_a_passkey_through_its_own_broker() {
    // Given a first run: nothing configured
    let mut world = World::start("first-run");
    world.launch_first_run();
    world.app().wait_visible("signed-out");
    // the app has started the emulator and the broker as its children
    assert_eq!(world.app().children_running(&emulator_binary()).len(), 1);
    assert_eq!(world.app().children_running(&broker_binary()).len(), 1);
    // and the broker's secret is in the app's data folder, for its owner only
    let secret_file = world.app_data_dir().join("broker-client-secret");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&secret_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o077, 0, "secret file mode {mode:o}");

    // and shows where its emulator's sign-in codes are: its dev mailbox, at
    // an address with a key only the app was given
    let mailbox = world
        .app()
        .wait_text("mailbox-url", "the dev mailbox's address", |t| {
            !t.is_empty()
        });
    let mailbox = Url::parse(mailbox.trim()).unwrap();
    assert!(mailbox.path().starts_with("/_dev/mailbox/"), "{mailbox}");

    // When the person signs up in the browser
    world.app().click("sign-in");
    let authorize = world.inbox.next("the authorize URL");
    assert_eq!(
        query_param(&authorize, "client_id").as_deref(),
        Some(CLIENT_ID)
    );
    let authorize_url = Url::parse(&authorize).unwrap();
    let base = Url::parse(&authorize_url.origin().ascii_serialization()).unwrap();
    assert_eq!(mailbox.origin(), base.origin());
    let environment = Emulator::attach(base.clone(), mailbox, secret_file);
    let browser = world.browser.session();
    browser
        .navigate(&authorize)
        .expect("open the authorize URL");
    wait_visible(browser, "#email");
    hosted::sign_in_with_email_code(&world.browser, &environment, EMAIL);
    // (which no other program on the machine reads without that key)
    let guessed = base.join(&format!("/_dev/mailbox?email={EMAIL}")).unwrap();
    assert_eq!(reqwest::blocking::get(guessed).unwrap().status(), 404);
    return_to_app(&world, Redirect::Loopback);
    world.app().wait_visible("passkeys-empty");
    world.shot_window("1-first-run-signed-in");

    // Then the window says its passkeys go through the local broker
    let api = world
        .app()
        .wait_text("passkeys-api-url", "the passkeys API", |t| !t.is_empty());
    let api = Url::parse(&api).unwrap();
    assert_ne!(api.origin(), base.origin(), "not the environment itself");
    let health = reqwest::blocking::get(api.join("healthz").unwrap()).unwrap();
    assert_eq!(health.status(), 200, "the broker answers at {api}");
    let user_id = world.stored_session()["account"]["subject"]
        .as_str()
        .unwrap()
        .to_owned();

    // When they add a passkey on the environment's page
    world.app().click("add-passkey");
    let page = world.inbox.next("the passkeys page");
    browser.navigate(&page).expect("open the passkeys page");
    wait_visible(browser, "#add-passkey");
    hosted::add_passkey_on_profile_page(&world.browser);
    world.app().refocus();
    world
        .app()
        .wait_text("passkey-row", "one passkey", |t| !t.is_empty());
    world.shot_window("2-first-run-passkey-listed");

    // and rename it in the window,
    world.app().click("rename-button");
    world.app().replace_text("rename-input", NAME);
    world.app().click("rename-save");
    world.app().wait_text("passkey-name", NAME, |t| t == NAME);
    assert_eq!(environment.credentials(&user_id)[0]["display_name"], NAME);

    // and remove it,
    world.app().click("remove-button");
    world.app().wait_visible("confirm-dialog");
    world.app().click("confirm-remove");
    world.app().wait_visible("passkeys-empty");
    world.shot_window("3-first-run-removed");

    // Then the environment agrees. The app could only make these changes
    // through its broker: the emulator refuses an end user's token on the
    // credentials API (Scalekit's rule).
    assert!(environment.credentials(&user_id).is_empty());
}
