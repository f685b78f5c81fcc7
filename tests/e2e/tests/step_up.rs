//! Issue 16, step-up before removal, on the production path (deep link +
//! broker): a passkey removal with a sign-in older than the broker allows
//! asks "Confirm it's you"; cancelled, nothing changes; confirmed, the
//! browser asks for a new login (`prompt=login`, `max_age`), the person
//! uses their passkey, the app comes back by deep link and the removal goes
//! through. Another program calling the broker with the app's access token
//! alone gets the RFC 9470 challenge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use passkeys_e2e::flows;
use passkeys_e2e::hosted;
use passkeys_e2e::page::{wait_for_url, wait_visible};
use passkeys_e2e::wait::{wait_for, UI_TIMEOUT};
use passkeys_e2e::world::{ApiMode, Redirect, World};

const EMAIL: &str = "robin@example.com";
/// The broker's setting here: a sign-in counts for removals for 20 s.
const MAX_AGE_SECS: u64 = 20;

/// A world whose broker wants a sign-in of the last [`MAX_AGE_SECS`] for
/// removals, with the app started (`redirect`) and signed out.
fn world_with_a_strict_broker(name: &str, redirect: Redirect) -> World {
    let max_age = MAX_AGE_SECS.to_string();
    let mut world =
        World::start_with_broker_args(name, ApiMode::Broker, &["--step-up-max-age-secs", &max_age]);
    world.launch_app(redirect);
    world.app().wait_visible("signed-out");
    world
}

/// Signs in with an email code through the window, then adds a passkey on
/// the environment's page in Chromium: the stored session, when the sign-in
/// finished, the user id and the passkey's id.
fn signed_in_with_a_passkey(
    world: &World,
    redirect: Redirect,
) -> (serde_json::Value, Instant, String, String) {
    let stored = flows::sign_in_with_email_code(world, "1", EMAIL, redirect);
    let signed_in_at = Instant::now();
    let user_id = stored["account"]["subject"].as_str().unwrap().to_owned();
    world.app().click("add-passkey");
    let page = world.inbox.next("the passkeys page");
    let browser = world.browser.session();
    browser.navigate(&page).expect("open the passkeys page");
    wait_for_url(browser, &page);
    wait_visible(browser, "#add-passkey");
    hosted::add_passkey_on_profile_page(&world.browser);
    let passkey = world.emulator.credentials(&user_id)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (stored, signed_in_at, user_id, passkey)
}

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn a_stale_sign_in_confirms_it_is_you_in_the_browser_before_a_removal() {
    let max_age = MAX_AGE_SECS.to_string();
    let world = world_with_a_strict_broker("step_up", Redirect::DeepLink);

    // Given a person signed in by deep link, with a passkey added in Chromium
    let (stored, signed_in_at, user_id, credential_id) =
        signed_in_with_a_passkey(&world, Redirect::DeepLink);
    world.app().refocus();
    world
        .app()
        .wait_text("passkey-row", "the passkey", |t| !t.is_empty());

    // Another program with the app's access token cannot remove it: the
    // broker wants a proof of a recent sign-in it checks itself.
    let access_token = world.stored_session()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, challenge) = world
        .broker()
        .remove_without_proof(&access_token, &credential_id);
    assert_eq!(status, 401, "{challenge}");
    assert!(
        challenge.contains("error=\"insufficient_user_authentication\"")
            && challenge.contains(&format!("max_age={MAX_AGE_SECS}")),
        "{challenge}"
    );
    assert_eq!(world.emulator.credentials(&user_id).len(), 1);

    // The keyboard reaches every control of the signed-in view, in the
    // order the page shows them (checked while the sign-in grows old)
    let order = passkeys_e2e::a11y::assert_tab_order_follows_the_page(world.app());
    for control in ["sign-out", "add-passkey", "rename-button", "remove-button"] {
        assert!(order.iter().any(|c| c == control), "{control}: {order:?}");
    }

    // When the sign-in is older than the broker allows
    let stale = Duration::from_secs(MAX_AGE_SECS + 2);
    if let Some(left) = stale.checked_sub(signed_in_at.elapsed()) {
        std::thread::sleep(left);
    }

    // and the person removes the passkey, the window asks them to confirm
    // it is them, naming the passkey
    world.app().click("remove-button");
    world.app().click("confirm-remove");
    world.app().wait_visible("confirm-step-up");
    let title = world
        .app()
        .wait_text("confirm-dialog", "Confirm it's you", |t| {
            t.contains("Confirm it's you to remove “")
        });
    assert!(title.contains("Nothing changes until you do"), "{title}");
    world.shot_window("1-confirm-its-you");

    // Cancelled from the keyboard (the focus is on Cancel; Escape): nothing
    // changes, the focus is back on Remove, and a notice in the live region
    // says so
    wait_for("the focus on Cancel", UI_TIMEOUT, || {
        (world.app().focused_testid() == "confirm-cancel").then_some(())
    });
    let session = world.app().session();
    let cancel = session.active_element().expect("the focused Cancel");
    session
        .send_keys(&cancel, "\u{E00C}")
        .expect("press Escape");
    world.app().wait_gone("confirm-dialog");
    wait_for("the focus back on Remove", UI_TIMEOUT, || {
        (world.app().focused_testid() == "remove-button").then_some(())
    });
    world
        .app()
        .wait_text("notices", "that nothing was removed", |t| {
            t.contains("Nothing was removed: “")
        });
    let live = session
        .execute(
            "const n = document.querySelector('[data-testid=notices]'); return [n.getAttribute('aria-live'), n.getAttribute('role')];",
            Vec::new(),
        )
        .expect("read the notices' live region");
    assert_eq!(live, serde_json::json!(["polite", "status"]), "announced");
    world.app().wait_visible("passkey-row");
    assert_eq!(world.emulator.credentials(&user_id).len(), 1);
    assert_eq!(world.inbox.pending(), 0, "no browser was opened");

    // Confirmed: the browser is asked for a new login, at most 20 s old
    world.app().click("remove-button");
    world.app().click("confirm-remove");
    world.app().click("confirm-step-up");
    let authorize = world.inbox.next("the confirmation's authorize URL");
    assert_asks_for_a_fresh_sign_in(&authorize, &max_age);
    world.app().wait_visible("step-up-waiting");
    world.shot_window("2-waiting-for-the-browser");
    // the person signs in again with their passkey (the browser's session
    // does not count: prompt=login)
    sign_in_again_with_passkey(
        &world,
        &authorize,
        Redirect::DeepLink,
        Some("2-login-again"),
    );

    // Then the removal goes through, and the environment agrees
    world.app().wait_visible("passkeys-empty");
    let notices = world
        .app()
        .wait_text("notices", "that the passkey was removed", |t| {
            t.contains("Removed “")
        });
    // in place of the earlier "Nothing was removed", which it contradicts
    assert!(!notices.contains("Nothing was removed"), "{notices}");
    assert_eq!(
        world
            .app()
            .session()
            .find_all("[data-testid=notice]")
            .unwrap()
            .len(),
        1
    );
    world.shot_window("3-removed-after-confirming");
    assert!(world.emulator.credentials(&user_id).is_empty());
    // with the same person still signed in, on a fresh session
    let after = world.stored_session();
    assert_eq!(after["account"]["subject"], user_id.as_str());
    assert_ne!(after["access_token"], stored["access_token"]);
}

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn the_command_line_confirms_it_is_you_before_a_removal() {
    let max_age = MAX_AGE_SECS.to_string();
    let mut world = world_with_a_strict_broker("step_up_cli", Redirect::Loopback);

    // Given a person signed in, with a passkey added in Chromium, whose
    // sign-in is older than the broker allows for removals
    let (_, signed_in_at, user_id, passkey) = signed_in_with_a_passkey(&world, Redirect::Loopback);
    world.quit_app();
    let stale = Duration::from_secs(MAX_AGE_SECS + 2);
    if let Some(left) = stale.checked_sub(signed_in_at.elapsed()) {
        std::thread::sleep(left);
    }

    // When they remove it on the command line
    let config = world.app_config(Redirect::Loopback);
    let mut command = std::process::Command::new(&config.binary);
    command
        .args(["passkeys", "remove", &passkey])
        .envs(config.env.iter().map(|(key, value)| (key, value)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let cli = command.spawn().expect("start the command line");

    // Then it asks to confirm it is them and opens the sign-in, with
    // prompt=login and the broker's max_age
    let authorize = world.inbox.next("the confirmation's authorize URL");
    assert_asks_for_a_fresh_sign_in(&authorize, &max_age);
    assert_eq!(world.emulator.credentials(&user_id).len(), 1);
    // and once they sign in again with their passkey, the removal is done
    sign_in_again_with_passkey(&world, &authorize, Redirect::Loopback, None);
    let output = cli.wait_with_output().expect("the command line ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("Confirm it's you to remove the passkey {passkey}")),
        "{stdout}"
    );
    assert!(stdout.contains("Open this link to sign in: "), "{stdout}");
    assert!(stdout.trim_end().ends_with("Removed."), "{stdout}");
    assert!(world.emulator.credentials(&user_id).is_empty());
}

/// The confirmation's authorize URL asks for a new login (`prompt=login`),
/// at most `max_age` seconds old.
fn assert_asks_for_a_fresh_sign_in(authorize: &str, max_age: &str) {
    assert_eq!(
        flows::query_param(authorize, "prompt").as_deref(),
        Some("login"),
        "{authorize}"
    );
    assert_eq!(
        flows::query_param(authorize, "max_age").as_deref(),
        Some(max_age),
        "{authorize}"
    );
}

/// The person opens `authorize` in the browser, signs in again with
/// "Continue with Passkey" (after `shot`, when named) and comes back to the
/// app by `redirect`.
fn sign_in_again_with_passkey(
    world: &World,
    authorize: &str,
    redirect: Redirect,
    shot: Option<&str>,
) {
    world.browser.disable_passkey_autofill();
    let browser = world.browser.session();
    browser.navigate(authorize).expect("open the authorize URL");
    wait_visible(browser, "#passkey-button");
    if let Some(step) = shot {
        world.shot_browser(step);
    }
    hosted::continue_with_passkey(&world.browser);
    flows::return_to_app(world, redirect);
}
