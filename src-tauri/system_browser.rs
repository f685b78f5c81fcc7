//! The system browser, through `tauri-plugin-opener`: the one piece of the
//! command line that needs Tauri, handed to it as a [`BrowserLauncher`].

use passkeys_core::BrowserLauncher;
use url::Url;

/// Opens URLs in the system's default browser (`tauri-plugin-opener`'s opener,
/// which needs no window, so the command line uses it too).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemBrowser;

impl BrowserLauncher for SystemBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        tauri_plugin_opener::open_url(url.as_str(), None::<&str>).map_err(|error| {
            passkeys_core::Error::Config(format!("Could not open the browser: {error}."))
        })
    }
}
