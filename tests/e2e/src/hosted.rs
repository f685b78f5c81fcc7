//! What a person does in the browser on the environment's hosted pages:
//! sign up or in with an emailed code, "Continue with Passkey", and add a
//! passkey on `/ui/profile/passkeys`.

use serde_json::Value;

use crate::browser::Browser;
use crate::emulator::Emulator;
use crate::page::{is_visible, wait_visible};
use crate::wait::{wait_for, UI_TIMEOUT};
use crate::webdriver::Session;

fn click(session: &Session, css: &str) {
    let element = wait_visible(session, css);
    session
        .click(&element)
        .unwrap_or_else(|error| panic!("click `{css}`: {error}"));
}

fn type_into(session: &Session, css: &str, text: &str) {
    let element = wait_visible(session, css);
    session
        .clear(&element)
        .unwrap_or_else(|error| panic!("clear `{css}`: {error}"));
    session
        .send_keys(&element, text)
        .unwrap_or_else(|error| panic!("type into `{css}`: {error}"));
}

/// On the login page the browser shows: enters `email`, reads the code the
/// environment mailed, and enters it. Returns the code's message.
///
/// # Panics
/// When a page or the code does not show up.
#[track_caller]
pub fn sign_in_with_email_code(browser: &Browser, emulator: &Emulator, email: &str) -> Value {
    let session = browser.session();
    let before = emulator.mailbox(email).len();
    type_into(session, "#email", email);
    click(session, "#email-submit");
    wait_visible(session, "#code");
    let message = wait_for(
        &format!("an email with a code for {email}"),
        UI_TIMEOUT,
        || {
            let messages = emulator.mailbox(email);
            (messages.len() > before).then(|| messages[0].clone())
        },
    );
    let code = message["code"]
        .as_str()
        .expect("the email carries a code")
        .to_owned();
    type_into(session, "#code", &code);
    click(session, "#code-submit");
    message
}

/// On the login page the browser shows: "Continue with Passkey", which the
/// virtual authenticator answers.
///
/// # Panics
/// When the button is not there.
#[track_caller]
pub fn continue_with_passkey(browser: &Browser) {
    click(browser.session(), "#passkey-button");
}

/// On `/ui/profile/passkeys` (already open in the browser): adds a passkey
/// with the virtual authenticator and waits until the page lists one more.
///
/// # Panics
/// When the ceremony fails or the page shows an error.
#[track_caller]
pub fn add_passkey_on_profile_page(browser: &Browser) {
    let session = browser.session();
    let held_before = browser.authenticator_credentials().len();
    click(session, "#add-passkey");
    wait_for(
        "the virtual authenticator to hold a new passkey",
        UI_TIMEOUT,
        || {
            if let Some(error) = session.find("#profile-error").ok().flatten() {
                if is_visible(session, &error) {
                    panic!(
                        "the passkeys page shows an error: {:?}",
                        session.text(&error)
                    );
                }
            }
            (browser.authenticator_credentials().len() > held_before).then_some(())
        },
    );
    // The page reloads once the environment stored it.
    wait_for(
        "the passkeys page to list the new passkey",
        UI_TIMEOUT,
        || {
            let ready = session
                .execute("return document.readyState;", vec![])
                .ok()?;
            let add = session.find("#add-passkey").ok()??;
            (ready == "complete"
                && is_visible(session, &add)
                && session.property(&add, "disabled").ok()? == Value::Bool(false))
            .then_some(())
        },
    );
}
