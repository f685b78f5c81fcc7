//! A local Scalekit-compatible environment.
//!
//! It serves the routes a Scalekit environment serves to a desktop app: OpenID
//! Connect (discovery, `/keys`, `/oauth/authorize`, `/oauth/token`,
//! `/oidc/logout`, `/userinfo`, `/revoke`, `/oauth/introspect`), the hosted
//! login pages with passkeys, `/ui/profile/passkeys`, and the WebAuthn
//! credentials REST API, on an SQLite database.
//!
//! ```no_run
//! # async fn run() -> scalekit_emulator::Result<()> {
//! let emulator = scalekit_emulator::start(scalekit_emulator::Config::for_tests()).await?;
//! println!("issuer: {}", emulator.base_url());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod admin;
pub mod api;
pub mod config;
pub mod db;
pub mod dev_mailbox;
pub mod error;
pub mod hosted;
pub mod hosts;
pub mod keys;
pub mod oidc;
pub mod private_files;
pub mod secret;
pub mod secret_file;
mod server;
pub mod state;
pub mod testing;
pub mod throttle;

#[allow(dead_code)]
mod aaguid;
mod user_agent;

pub use config::{ClientConfig, ClientKind, Config, MailSink, Storage};
pub use dev_mailbox::DevMailbox;
pub use error::{Error, Result};
pub use server::{router, start, RunningEmulator, MAX_BODY_BYTES};
pub use state::AppState;
