use std::sync::Arc;

use time::OffsetDateTime;
use url::Url;

use super::*;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::vault::memory::MemoryStore;
use crate::vault::{Account, StoredSession};

/// A browser that opens nothing (sign-out's end-session page).
struct NoBrowser;

impl BrowserLauncher for NoBrowser {
    fn open(&self, _url: &Url) -> Result<()> {
        Ok(())
    }
}

/// An environment on a port nobody listens on: nothing here may need it.
fn config(port: u16, client_id: &str) -> Config {
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    Config::new(url.clone(), client_id).with_api_url(url.join("broker/").unwrap())
}

fn environments() -> Vec<(String, Config)> {
    vec![
        ("work".into(), config(9, "ntvc_work")),
        ("home".into(), config(19, "ntvc_home")),
    ]
}

fn session(subject: &str, email: &str, token: &str) -> StoredSession {
    StoredSession {
        access_token: AccessToken::new(format!("access-{token}")),
        refresh_token: Some(RefreshToken::new(format!("refresh-{token}"))),
        id_token: Some(IdToken::new(format!("id-{token}"))),
        expires_at: OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap(),
        account: Account {
            subject: subject.into(),
            name: None,
            email: Some(email.into()),
            environment: "unused".into(),
        },
    }
}

/// Stores `session` where an earlier version kept the one session of `config`.
async fn earlier_version_signed_in(
    store: &Arc<MemoryStore>,
    config: &Config,
    session: StoredSession,
) {
    let vault = TokenVault::for_config(config, Arc::clone(store) as Arc<dyn SecretStore>);
    vault.save(&session).await.unwrap();
}

async fn open(
    store: &Arc<MemoryStore>,
    environments: Vec<(String, Config)>,
    file: Option<PathBuf>,
) -> Accounts {
    let options = ClientOptions::default();
    let store = Arc::clone(store) as Arc<dyn SecretStore>;
    Accounts::open(environments, store, Arc::new(NoBrowser), options, file)
        .await
        .unwrap()
}

/// Ada on `work`, Grace on `home`, both signed in by an earlier version.
async fn two_accounts(store: &Arc<MemoryStore>, file: Option<PathBuf>) -> Accounts {
    let environments = environments();
    earlier_version_signed_in(
        store,
        &environments[0].1,
        session("usr_ada", "ada@example.com", "a"),
    )
    .await;
    earlier_version_signed_in(
        store,
        &environments[1].1,
        session("usr_grace", "grace@example.com", "g"),
    )
    .await;
    open(store, environments, file).await
}

#[tokio::test]
async fn an_earlier_versions_session_is_filed_under_its_account() {
    // Given the session an earlier version kept under <environment>|<client>
    let store = Arc::new(MemoryStore::default());
    let accounts = two_accounts(&store, None).await;
    // Then each is under <environment>|<client>|<subject>, the old entries are gone
    assert_eq!(
        store.names(),
        [
            "http://127.0.0.1:19/|ntvc_home|usr_grace",
            "http://127.0.0.1:9/|ntvc_work|usr_ada"
        ]
    );
    let list = accounts.list();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0].environment, "work");
    assert_eq!(list[0].email.as_deref(), Some("ada@example.com"));
    assert_eq!(list[1].environment, "home");
    assert!(list.iter().all(|account| account.configured));
    // The last one filed is current
    assert_eq!(accounts.current().unwrap().subject, "usr_grace");
}

#[tokio::test]
async fn switching_reads_no_keychain_and_each_client_has_its_own_session() {
    let store = Arc::new(MemoryStore::default());
    let accounts = two_accounts(&store, None).await;
    store.take_calls();
    // When switching by email, then by environment name
    let ada = accounts.switch("ADA@example.com").unwrap();
    assert!(ada.current);
    assert_eq!(accounts.current().unwrap().key, ada.key);
    let grace = accounts.switch("home").unwrap();
    assert_eq!(accounts.current().unwrap().key, grace.key);
    // Then the keychain was not touched
    assert_eq!(store.take_calls(), Vec::<String>::new());
    // And each account's client reads its own entry, with its own environment
    let (_, ada_client) = accounts.client_for("work").unwrap();
    let (_, grace_client) = accounts.current_client().unwrap();
    let ada_session = ada_client.stored_session().await.unwrap().unwrap();
    let grace_session = grace_client.stored_session().await.unwrap().unwrap();
    assert_eq!(ada_session.access_token.secret(), "access-a");
    assert_eq!(grace_session.access_token.secret(), "access-g");
    assert_eq!(ada_client.config().client_id, "ntvc_work");
    assert_eq!(grace_client.config().api_url().unwrap().port(), Some(19));
}

#[tokio::test]
async fn selectors_that_name_no_account_or_several_are_refused() {
    let store = Arc::new(MemoryStore::default());
    let environments = environments();
    earlier_version_signed_in(
        &store,
        &environments[0].1,
        session("usr_ada", "ada@example.com", "a"),
    )
    .await;
    let accounts = open(&store, environments, None).await;
    let table = [
        ("nobody@example.com", "No account or environment"),
        ("home", "No account is signed in to \"home\""),
    ];
    for (selector, message) in table {
        let error = accounts.switch(selector).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::InvalidInput, "{selector}");
        assert!(error.to_string().contains(message), "{selector}: {error}");
    }
    assert!(accounts.find("work").is_ok());
    let key = accounts.find("ada@example.com").unwrap().key;
    assert_eq!(accounts.find(&key).unwrap().environment, "work");
}

#[tokio::test]
async fn the_current_account_is_kept_in_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(ACCOUNTS_FILE);
    let store = Arc::new(MemoryStore::default());
    let accounts = two_accounts(&store, Some(path.clone())).await;
    accounts.switch("work").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("access-") && !text.contains("refresh-"),
        "{text}"
    );
    // A second process sees the same current account
    let again = open(&store, environments(), Some(path)).await;
    assert_eq!(again.current().unwrap().environment, "work");
    assert_eq!(again.list().len(), 2);
}

#[tokio::test]
async fn signing_out_of_one_account_leaves_the_other() {
    let store = Arc::new(MemoryStore::default());
    let accounts = two_accounts(&store, None).await;
    // When Grace (current) signs out; her environment does not answer
    accounts.sign_out("grace@example.com").await.unwrap();
    // Then Ada is signed in, current, and her entry is intact
    let list = accounts.list();
    assert_eq!(list.len(), 1);
    assert!(list[0].current);
    assert_eq!(store.names(), ["http://127.0.0.1:9/|ntvc_work|usr_ada"]);
}

#[tokio::test]
async fn an_account_no_longer_configured_is_listed_and_can_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(ACCOUNTS_FILE);
    let store = Arc::new(MemoryStore::default());
    two_accounts(&store, Some(path.clone())).await;
    // Given the configuration now names only "work"
    let only_work = vec![environments().remove(0)];
    let accounts = open(&store, only_work, Some(path)).await;
    // Then Grace's account is listed as not configured
    let stale = accounts.stale();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0].email.as_deref(), Some("grace@example.com"));
    assert_eq!(stale[0].environment, "home");
    // It cannot become current
    let error = accounts.switch("grace@example.com").unwrap_err();
    assert!(
        error.to_string().contains("no longer configured"),
        "{error}"
    );
    // When the stale entries are removed
    let removed = accounts.remove_stale().await.unwrap();
    assert_eq!(removed, stale);
    // Then only Ada's entry is left, and her account
    assert_eq!(store.names(), ["http://127.0.0.1:9/|ntvc_work|usr_ada"]);
    assert_eq!(accounts.list().len(), 1);
    assert!(accounts.stale().is_empty());
}

#[tokio::test]
async fn no_account_means_sign_in_required() {
    let store = Arc::new(MemoryStore::default());
    let accounts = open(&store, environments(), None).await;
    assert!(accounts.list().is_empty());
    let error = accounts.current_client().unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::SignInRequired);
    assert_eq!(accounts.environment_names(), ["work", "home"]);
    let error = accounts.sign_in_client("elsewhere").unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::InvalidInput);
}
