//! The doctor against the emulator and the broker on ephemeral ports, with
//! each seam faked in turn: the six scenarios of `doctor --json`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use super::*;
use crate::vault::SecretStore;

/// A keychain in a state of the test's choosing; a map when available.
pub(super) struct FakeKeychain {
    status: KeychainStatus,
    entries: Arc<MapStore>,
}

#[derive(Default)]
struct MapStore(Mutex<HashMap<String, String>>);

impl SecretStore for MapStore {
    fn get(&self, account: &str) -> crate::Result<Option<String>> {
        Ok(self.0.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, secret: &str) -> crate::Result<()> {
        self.0.lock().unwrap().insert(account.into(), secret.into());
        Ok(())
    }
    fn delete(&self, account: &str) -> crate::Result<()> {
        self.0.lock().unwrap().remove(account);
        Ok(())
    }
}

impl KeychainProbe for FakeKeychain {
    fn status(&self) -> KeychainStatus {
        self.status.clone()
    }
    fn store(&self) -> Arc<dyn SecretStore> {
        self.entries.clone()
    }
}

pub(super) fn keychain(status: KeychainStatus) -> Arc<FakeKeychain> {
    Arc::new(FakeKeychain {
        status,
        entries: Arc::default(),
    })
}

/// The system clock moved by `offset`.
struct OffClock(time::Duration);

impl Clock for OffClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.0
    }
}

pub(super) const EXEC: &str = "/opt/passkeys/passkeys-desktop";
pub(super) const ENTRY: &str = "passkeys-desktop-handler.desktop";

/// A registration in `dir`, written by `register` unless `registered` is false.
pub(super) fn scheme(dir: &std::path::Path, registered: bool) -> SchemeRegistration {
    let registration = SchemeRegistration {
        applications_dir: dir.join("applications"),
        entry_name: ENTRY.into(),
        exec: EXEC.into(),
        app_name: "Passkeys".into(),
        schemes: vec!["dev.passkeys.desktop".into()],
        defaults: Arc::new(MimeAppsList::new(dir.join("mimeapps.list"))),
    };
    if registered {
        registration.register().unwrap();
    }
    registration
}

pub(super) struct World {
    pub(super) emulator: scalekit_emulator::RunningEmulator,
    pub(super) broker: passkeys_broker::RunningBroker,
    _other: Option<scalekit_emulator::RunningEmulator>,
    pub(super) dir: tempfile::TempDir,
}

/// An emulator and a broker in front of it (or, with `broker_elsewhere`, in
/// front of a second emulator: another issuer).
pub(super) async fn world(broker_elsewhere: bool) -> World {
    let start = || scalekit_emulator::start(scalekit_emulator::Config::for_tests());
    let emulator = start().await.unwrap();
    let other = if broker_elsewhere {
        Some(start().await.unwrap())
    } else {
        None
    };
    let trusted = other.as_ref().unwrap_or(&emulator);
    let mut config = passkeys_broker::Config::new(
        trusted.base_url().clone(),
        "ntvc_demo",
        "skc_demo",
        passkeys_broker::ClientSecret::new(scalekit_emulator::config::TEST_CLIENT_SECRET),
    );
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let broker = passkeys_broker::start(config).await.unwrap();
    World {
        emulator,
        broker,
        _other: other,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl World {
    /// The configuration file of a person using this environment and
    /// broker (and these further `settings` lines).
    pub(super) fn inspection(&self, settings: &str) -> ConfigInspection {
        let path = self.dir.path().join("config.toml");
        std::fs::write(
            &path,
            format!(
                "environment_url = \"{}\"\nclient_id = \"ntvc_demo\"\napi_url = \"{}\"\n{settings}",
                self.emulator.base_url(),
                self.broker.base_url()
            ),
        )
        .unwrap();
        inspect_config(Some(&path), |_| None)
    }

    /// The report of a person who signs in by the deep link (the link
    /// scheme is needed), the scheme `registered` or not.
    pub(super) async fn report(
        &self,
        probe: Arc<FakeKeychain>,
        clock: Arc<dyn Clock>,
        registered: bool,
    ) -> Report {
        let doctor = Doctor::new(probe, clock)
            .unwrap()
            .with_scheme(scheme(self.dir.path(), registered));
        doctor.run(self.inspection(DEEP_LINK), None).await
    }
}

/// The setting that signs in through the deep link.
pub(super) const DEEP_LINK: &str = "redirect = \"deeplink\"\n";

pub(super) fn verdicts(report: &Report) -> Vec<(&'static str, Verdict)> {
    report
        .checks
        .iter()
        .map(|check| (check.name, check.verdict))
        .collect()
}

/// Every check but `name` is ok; `name` has `verdict`.
pub(super) fn only(report: &Report, name: &str, verdict: Verdict) -> Check {
    for check in &report.checks {
        if check.name != name {
            assert_eq!(
                check.verdict,
                Verdict::Ok,
                "{check:?} in {:?}",
                verdicts(report)
            );
        }
    }
    let check = report.check(name).unwrap().clone();
    assert_eq!(check.verdict, verdict, "{check:?}");
    if verdict != Verdict::Ok {
        assert!(check.fix.is_some(), "{check:?}");
    }
    check
}

#[tokio::test]
async fn a_healthy_set_up_passes_every_check() {
    // Given an environment, its broker, an unlocked keychain and a registered scheme
    let world = world(false).await;
    let probe = keychain(KeychainStatus::Available);
    // When the doctor runs
    let report = world
        .report(probe.clone(), Arc::new(SystemClock), true)
        .await;
    // Then every check passes, in this order, and the test item is gone
    assert_eq!(
        verdicts(&report),
        [
            "config",
            "keychain",
            "scheme",
            "environment",
            "broker",
            "clock",
            "loopback"
        ]
        .map(|name| (name, Verdict::Ok))
    );
    assert_eq!(report.verdict, Verdict::Ok);
    assert!(!report.failed());
    assert!(probe.entries.0.lock().unwrap().is_empty());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["verdict"], "ok");
    assert_eq!(json["checks"][0]["name"], "config");
    assert!(json["checks"][0].get("fix").is_none(), "{json}");
    let api_url = json["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "api_url")
        .unwrap();
    assert_eq!(api_url["source"]["kind"], "file", "{api_url}");
}

#[tokio::test]
async fn no_session_bus_and_a_locked_keyring_are_named() {
    let world = world(false).await;
    for (status, words) in [
        (
            KeychainStatus::Missing(Missing::SessionBus),
            "no D-Bus session bus",
        ),
        (
            KeychainStatus::Missing(Missing::SecretService),
            "No Secret Service",
        ),
        (KeychainStatus::Locked, "is locked"),
    ] {
        let report = world
            .report(keychain(status.clone()), Arc::new(SystemClock), true)
            .await;
        let check = only(&report, "keychain", Verdict::Fail);
        assert!(check.detail.contains(words), "{status:?}: {check:?}");
        assert!(report.failed());
    }
}

#[tokio::test]
async fn a_stale_scheme_registration_fails_and_fix_registers_it_again() {
    // Given a desktop entry left by a binary that has moved
    let world = world(false).await;
    let registration = scheme(world.dir.path(), true);
    let path = registration.applications_dir.join(ENTRY);
    let moved = std::fs::read_to_string(&path)
        .unwrap()
        .replace(EXEC, "/usr/old/passkeys-desktop");
    std::fs::write(&path, moved).unwrap();
    // When the doctor runs
    let report = world
        .report(
            keychain(KeychainStatus::Available),
            Arc::new(SystemClock),
            false,
        )
        .await;
    // Then the scheme fails, naming the stale program, and says to run --fix
    let check = only(&report, "scheme", Verdict::Fail);
    assert!(
        check.detail.contains("/usr/old/passkeys-desktop"),
        "{check:?}"
    );
    assert!(check.detail.contains("stale"), "{check:?}");
    assert!(check.fix.unwrap().contains("doctor --fix"));
    // And --fix registers it again
    let doctor = Doctor::new(keychain(KeychainStatus::Available), Arc::new(SystemClock))
        .unwrap()
        .with_scheme(registration.clone());
    doctor.fix_scheme().unwrap();
    assert_eq!(registration.state(), SchemeState::Registered);
}

#[test]
fn each_kind_of_bad_registration_is_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let registration = scheme(dir.path(), false);
    assert_eq!(registration.state(), SchemeState::NoEntry);
    registration.register().unwrap();
    assert_eq!(registration.state(), SchemeState::Registered);
    let path = registration.applications_dir.join(ENTRY);
    let entry = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, entry.replace(" %u", "")).unwrap();
    assert_eq!(registration.state(), SchemeState::NoLinkArgument);
    std::fs::write(&path, entry.replace("dev.passkeys.desktop", "other")).unwrap();
    assert!(matches!(
        registration.state(),
        SchemeState::NotClaimed { .. }
    ));
    std::fs::write(&path, &entry).unwrap();
    registration
        .defaults
        .set_default("browser.desktop", "x-scheme-handler/dev.passkeys.desktop")
        .unwrap();
    assert_eq!(
        registration.state(),
        SchemeState::NotDefault {
            scheme: "dev.passkeys.desktop".into(),
            handler: Some("browser.desktop".into())
        }
    );
}

#[tokio::test]
async fn a_broker_trusting_another_issuer_is_named() {
    // Given a broker set up for a second environment
    let world = world(true).await;
    // When the doctor runs
    let report = world
        .report(
            keychain(KeychainStatus::Available),
            Arc::new(SystemClock),
            true,
        )
        .await;
    // Then the broker check fails, naming both issuers
    let check = only(&report, "broker", Verdict::Fail);
    let ours = world
        .emulator
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    assert!(check.detail.contains("another environment"), "{check:?}");
    assert!(check.detail.contains(&ours), "{check:?}");
    assert_eq!(
        check.subject.as_deref(),
        Some(world.broker.base_url().as_str().trim_end_matches('/'))
    );
    assert!(report.failed());
}

#[tokio::test]
async fn a_clock_five_minutes_off_warns() {
    // Given this machine's clock five minutes behind
    let world = world(false).await;
    let clock = Arc::new(OffClock(time::Duration::minutes(-5)));
    // When the doctor runs
    let report = world
        .report(keychain(KeychainStatus::Available), clock, true)
        .await;
    // Then the clock warns (tokens will look expired or not yet valid), nothing fails
    let check = only(&report, "clock", Verdict::Warn);
    assert!(check.detail.contains("5 minutes behind"), "{check:?}");
    assert!(
        check.detail.contains("expired or not yet valid"),
        "{check:?}"
    );
    assert_eq!(report.verdict, Verdict::Warn);
    assert!(!report.failed());
}

#[tokio::test]
async fn an_environment_that_does_not_answer_fails() {
    let world = world(false).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &path,
        format!("environment_url = \"http://127.0.0.1:{port}\"\nclient_id = \"ntvc_demo\"\n"),
    )
    .unwrap();
    let doctor = Doctor::new(keychain(KeychainStatus::Available), Arc::new(SystemClock))
        .unwrap()
        .with_scheme(scheme(world.dir.path(), true));
    let report = doctor
        .run(inspect_config(Some(&path), |_| None), None)
        .await;
    let check = report.check("environment").unwrap();
    assert_eq!(check.verdict, Verdict::Fail, "{check:?}");
    assert!(check.detail.contains("Could not reach"), "{check:?}");
    assert!(report.check("broker").is_none(), "no broker configured");
}

#[tokio::test]
async fn with_nothing_configured_the_local_environment_is_checked_and_shown() {
    // Given no configuration, and the local environment the app would start
    let world = world(false).await;
    let inspection = inspect_config(Some(&world.dir.path().join("none.toml")), |_| None);
    let local = Config::new(world.emulator.base_url().clone(), "ntvc_demo")
        .with_api_url(world.broker.base_url().clone());
    // When the doctor runs
    let doctor = Doctor::new(keychain(KeychainStatus::Available), Arc::new(SystemClock))
        .unwrap()
        .with_scheme(scheme(world.dir.path(), true));
    let report = doctor.run(inspection, Some(&local)).await;
    // Then the local environment and broker are checked, and the settings show its values
    assert_eq!(report.verdict, Verdict::Ok, "{:?}", verdicts(&report));
    assert_eq!(report.checks.len(), 7, "{:?}", verdicts(&report));
    let url = report
        .settings
        .iter()
        .find(|setting| setting.name == "environment_url")
        .unwrap();
    assert_eq!(url.source, Source::Default);
    assert_eq!(
        url.value.as_deref(),
        Some(world.emulator.base_url().as_str().trim_end_matches('/'))
    );
}
