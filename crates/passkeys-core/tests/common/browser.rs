//! The browser seam: signs in on the emulator's hosted pages over HTTP.

use std::sync::{Arc, Mutex};

use passkeys_core::BrowserLauncher;
use scalekit_emulator::DevMailbox;
use tokio::sync::mpsc;
use url::Url;

use super::{Env, EMAIL};

/// What the fake browser does with an authorize URL.
#[derive(Clone)]
pub enum Delivery {
    /// Signs in, then requests the loopback callback like a browser would.
    Loopback,
    /// Signs in, then hands the callback URL to the test (the OS's deep-link delivery).
    DeepLink(mpsc::UnboundedSender<Url>),
    /// Only records the URL.
    Nothing,
}

/// The browser seam: signs in on the emulator's hosted pages over HTTP.
pub struct LoginBrowser {
    mailbox: DevMailbox,
    delivery: Delivery,
    pub opened: Mutex<Vec<Url>>,
    pub loopback_pages: Arc<Mutex<Vec<String>>>,
    pub failures: Arc<Mutex<Vec<String>>>,
}

impl LoginBrowser {
    pub fn new(env: &Env, delivery: Delivery) -> Arc<LoginBrowser> {
        LoginBrowser::for_mailbox(&env.mailbox, delivery)
    }

    /// A browser that reads its codes from `mailbox` (which names the emulator).
    pub fn for_mailbox(mailbox: &DevMailbox, delivery: Delivery) -> Arc<LoginBrowser> {
        Arc::new(LoginBrowser {
            mailbox: mailbox.clone(),
            delivery,
            opened: Mutex::new(Vec::new()),
            loopback_pages: Arc::default(),
            failures: Arc::default(),
        })
    }

    pub fn opened(&self) -> Vec<Url> {
        self.opened.lock().unwrap().clone()
    }

    /// The authorize URLs opened so far.
    pub fn authorize_urls(&self) -> Vec<Url> {
        self.opened()
            .into_iter()
            .filter(|url| url.path() == "/oauth/authorize")
            .collect()
    }
}

impl BrowserLauncher for LoginBrowser {
    fn open(&self, url: &Url) -> passkeys_core::Result<()> {
        self.opened.lock().unwrap().push(url.clone());
        if url.path() != "/oauth/authorize" {
            return Ok(());
        }
        if let Delivery::Nothing = self.delivery {
            return Ok(());
        }
        let (url, base, delivery) = (url.clone(), self.mailbox.clone(), self.delivery.clone());
        let (pages, failures) = (Arc::clone(&self.loopback_pages), Arc::clone(&self.failures));
        tokio::spawn(async move {
            let callback = match login(&url, &base).await {
                Ok(callback) => callback,
                Err(error) => {
                    failures.lock().unwrap().push(error);
                    return;
                }
            };
            match delivery {
                Delivery::Loopback => match reqwest::get(callback).await {
                    Ok(response) => {
                        let page = response.text().await.unwrap_or_default();
                        pages.lock().unwrap().push(page);
                    }
                    Err(error) => failures.lock().unwrap().push(error.to_string()),
                },
                Delivery::DeepLink(sender) => {
                    let _ = sender.send(callback);
                }
                Delivery::Nothing => {}
            }
        });
        Ok(())
    }
}

/// Signs in on the hosted pages for `authorize_url`, with the code from
/// `mailbox`; returns the callback URL.
pub async fn login(authorize_url: &Url, mailbox: &DevMailbox) -> Result<Url, String> {
    let http = scalekit_emulator::testing::browser_client().map_err(|e| e.to_string())?;
    scalekit_emulator::testing::sign_in_with_email_code(&http, authorize_url, EMAIL, mailbox)
        .await
        .map_err(|e| e.to_string())
}
