//! Everything the Passkeys desktop app does without its window, so that it
//! can be built and tested without Tauri:
//!
//! - [`core_start`]: the client core's start, from the configuration, or
//!   (with nothing configured) with the local environment as children;
//! - [`data_folder`]: the app's data folder, private to its user;
//! - [`local_servers`]: those children, the emulator and the passkeys broker;
//! - [`scheme_registration`]: whether the link scheme still has to be
//!   registered with the desktop;
//! - [`diagnose`]: the doctor's checks wired to this machine;
//! - [`cli`]: the command line (`status`, `sign-in`, `passkeys …`, `doctor`).
//!
//! The window (`src-tauri/`) wires these to Tauri; what needs Tauri (the
//! system browser through `tauri-plugin-opener`) is handed in.

pub mod cli;
pub mod core_start;
pub mod data_folder;
pub mod diagnose;
pub mod local_servers;
pub mod scheme_registration;
