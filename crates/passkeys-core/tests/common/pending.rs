//! A sign-in in progress whose browser step the test plays.

use std::sync::Arc;
use std::time::Duration;

use passkeys_core::{Account, Client, ClientOptions, DeepLinkAction, RedirectMode, SessionState};
use tokio::task::JoinHandle;
use url::Url;

use super::{client, login, query, Delivery, Env, LoginBrowser, MemoryStore};

/// A sign-in waiting for its answer; the test plays the browser.
pub struct Pending {
    pub client: Client,
    pub store: Arc<MemoryStore>,
    pub browser: Arc<LoginBrowser>,
    pub task: JoinHandle<passkeys_core::Result<Account>>,
    pub authorize_url: Url,
}

impl Pending {
    pub async fn start(env: &Env, redirect: RedirectMode) -> Pending {
        let store = Arc::new(MemoryStore::default());
        let browser = LoginBrowser::new(env, Delivery::Nothing);
        let client = client(
            env.config(redirect),
            Arc::clone(&store),
            Arc::clone(&browser),
            ClientOptions::default(),
        )
        .await;
        Pending::again(client, store, browser).await
    }

    /// Starts another sign-in on the same client.
    pub async fn again(
        client: Client,
        store: Arc<MemoryStore>,
        browser: Arc<LoginBrowser>,
    ) -> Pending {
        let before = browser.authorize_urls().len();
        let task = tokio::spawn({
            let client = client.clone();
            async move { client.sign_in(|_| {}).await }
        });
        let authorize_url = loop {
            let urls = browser.authorize_urls();
            if urls.len() > before {
                break urls[before].clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        Pending {
            client,
            store,
            browser,
            task,
            authorize_url,
        }
    }

    pub fn state(&self) -> String {
        query(&self.authorize_url)["state"].clone()
    }

    pub fn redirect_uri(&self) -> String {
        query(&self.authorize_url)["redirect_uri"].clone()
    }

    /// The loopback URL with this query.
    pub fn loopback(&self, query: &str) -> String {
        format!("{}?{query}", self.redirect_uri())
    }

    /// Logs in on the emulator like the user would; returns the real callback URL.
    pub async fn real_callback(&self, env: &Env) -> Url {
        login(&self.authorize_url, &env.mailbox).await.unwrap()
    }

    pub fn assert_still_pending(&self) {
        assert!(!self.task.is_finished(), "the sign-in ended early");
    }

    pub async fn assert_nothing_stored(&self) {
        assert!(self.store.is_empty());
        assert_eq!(
            self.client.session().await.unwrap(),
            SessionState::SignedOut
        );
    }

    /// Completes the sign-in through a deep link with the real answer.
    pub async fn complete_through_deep_link(self, env: &Env) -> Account {
        let callback = self.real_callback(env).await;
        assert_eq!(
            self.client
                .handle_deep_link(callback.as_str())
                .await
                .unwrap(),
            DeepLinkAction::CompletedSignIn
        );
        self.task.await.unwrap().unwrap()
    }

    /// Completes the sign-in through the loopback with the real answer.
    pub async fn complete_through_loopback(self, env: &Env) -> Account {
        let callback = self.real_callback(env).await;
        let page = reqwest::get(callback).await.unwrap().text().await.unwrap();
        assert!(page.contains("You are signed in"), "{page}");
        let account = self.task.await.unwrap().unwrap();
        assert!(!self.store.is_empty());
        account
    }
}
