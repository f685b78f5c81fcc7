//! The link scheme's check when no link is needed (a loopback redirect) and
//! its repair when one is; the broker's readiness (`/readyz`). Against the
//! emulator and the broker on ephemeral ports.

use std::sync::Arc;

use super::tests::{keychain, only, scheme, verdicts, world, DEEP_LINK};
use super::*;

#[tokio::test]
async fn with_a_loopback_redirect_no_link_scheme_is_needed() {
    // Given a person who signs in through the loopback, and no scheme registered
    let world = world(false).await;
    let doctor = Doctor::new(keychain(KeychainStatus::Available), Arc::new(SystemClock))
        .unwrap()
        .with_scheme(scheme(world.dir.path(), false));
    for redirect in ["", "redirect = \"loopback\"\n"] {
        // When the doctor runs
        let report = doctor.run(world.inspection(redirect), None).await;
        // Then the scheme check says it is not needed, and nothing fails
        let check = only(&report, "scheme", Verdict::Ok);
        assert!(check.detail.starts_with("Not needed"), "{check:?}");
        assert_eq!(check.repair, None);
        assert!(!report.failed(), "{:?}", verdicts(&report));
    }
}

#[tokio::test]
async fn a_link_scheme_needed_by_any_environment_is_checked_and_repairable() {
    let world = world(false).await;
    let unregistered = || {
        Doctor::new(keychain(KeychainStatus::Available), Arc::new(SystemClock))
            .unwrap()
            .with_scheme(scheme(world.dir.path(), false))
    };
    // Given the deep link, and no scheme registered
    let report = unregistered().run(world.inspection(DEEP_LINK), None).await;
    // Then the scheme fails, and the app can repair it itself
    let check = only(&report, "scheme", Verdict::Fail);
    assert_eq!(check.repair, Some(Repair::RegisterScheme));
    let json = serde_json::to_value(&check).unwrap();
    assert_eq!(json["repair"], "registerScheme", "{json}");

    // Given a loopback environment, and another that signs in by link
    let mut by_link = Config::new(world.emulator.base_url().clone(), "ntvc_other");
    by_link.redirect = crate::RedirectMode::DeepLink {
        redirect_uri: url::Url::parse(crate::DEFAULT_DEEP_LINK_REDIRECT_URI).unwrap(),
    };
    let report = unregistered()
        .with_other_environments(vec![by_link])
        .run(world.inspection(""), None)
        .await;
    // Then the scheme is needed, and fails
    let check = report.check("scheme").unwrap();
    assert_eq!(check.verdict, Verdict::Fail, "{check:?}");
    assert_eq!(check.repair, Some(Repair::RegisterScheme));

    // And a registered scheme is ok, with nothing to repair
    let registered = Doctor::new(keychain(KeychainStatus::Available), Arc::new(SystemClock))
        .unwrap()
        .with_scheme(scheme(world.dir.path(), true));
    let report = registered.run(world.inspection(DEEP_LINK), None).await;
    let check = only(&report, "scheme", Verdict::Ok);
    assert_eq!(check.repair, None);
}

#[tokio::test]
async fn a_broker_that_is_not_ready_fails_with_its_reason() {
    // Given a broker whose own credentials the environment refuses: it
    // answers, trusts this environment, and its /readyz says 503
    let world = world(false).await;
    let mut config = passkeys_broker::Config::new(
        world.emulator.base_url().clone(),
        "ntvc_demo",
        "skc_demo",
        passkeys_broker::ClientSecret::new("not-the-secret"),
    );
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let broker = passkeys_broker::start(config).await.unwrap();
    let ready = reqwest::get(broker.base_url().join("readyz").unwrap())
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let local = Config::new(world.emulator.base_url().clone(), "ntvc_demo")
        .with_api_url(broker.base_url().clone());

    // When the doctor runs
    let doctor = Doctor::new(keychain(KeychainStatus::Available), Arc::new(SystemClock))
        .unwrap()
        .with_scheme(scheme(world.dir.path(), true));
    let inspection = inspect_config(Some(&world.dir.path().join("none.toml")), |_| None);
    let report = doctor.run(inspection, Some(&local)).await;

    // Then the broker check fails, saying it is not ready and why
    let check = only(&report, "broker", Verdict::Fail);
    assert!(check.detail.contains("not ready"), "{check:?}");
    assert!(check.detail.contains("HTTP 503"), "{check:?}");
    assert!(
        check.detail.contains("Scalekit environment"),
        "the reason: {check:?}"
    );
    assert!(report.failed());
}
