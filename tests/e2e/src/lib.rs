//! The end-to-end harness of the Passkeys desktop app: the real window
//! driven through WebDriver (tauri-driver + WebKitWebDriver), Debian's
//! Chromium with a WebAuthn virtual authenticator as the system browser,
//! gnome-keyring as the keychain and the emulator as the environment.
//!
//! The scenarios live in `tests/`; run them with `tests/e2e/run`, which
//! provides the X display (Xvfb). Each test starts its own world:
//!
//! ```no_run
//! use passkeys_e2e::world::{Redirect, World};
//! let mut world = World::start("example");
//! world.launch_app(Redirect::Loopback);
//! world.app().wait_visible("sign-in");
//! ```
// Files under `tests/`: a failed expectation is a panic with a clear message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod a11y;
pub mod app;
pub mod broker;
pub mod browser;
pub mod emulator;
pub mod flows;
pub mod hosted;
pub mod keychain;
pub mod page;
pub mod process;
pub mod wait;
pub mod webdriver;
pub mod world;
