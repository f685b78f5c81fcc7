//! The doctor on this machine: the core's checks wired to the system
//! keychain, the user's desktop entries and `xdg-mime`, and the system
//! clock. The command line (`passkeys-desktop doctor`) and the window's
//! "Diagnose" panel both run it.

use std::sync::Arc;

use passkeys_core::doctor::{
    self, Check, Doctor, Report, SchemeRegistration, SystemClock, SystemKeychain, Verdict, XdgMime,
};
use passkeys_core::{Config, EnvironmentKind, LocalSettings, Settings, DEFAULT_KEYCHAIN_SERVICE};

use crate::core_start;

/// The app's name in the desktop entry (`productName`).
const APP_NAME: &str = "Passkeys";

/// Which environment the checks look at.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// The configuration of a running core (the window's).
    Running(&'a Config),
    /// The configuration file and variables; with nothing configured, the
    /// local environment is started for the checks and stopped after them
    /// (the command line, as the app would start it).
    Configured,
    /// The configuration file and variables only: with nothing configured,
    /// no environment is checked (the window, whose core did not start).
    ConfiguredWithoutStarting,
}

/// Runs every check (after registering the link scheme again with `fix`).
///
/// # Errors
/// When the doctor cannot be built or the scheme cannot be registered.
pub async fn diagnose(fix: bool, subject: Subject<'_>) -> passkeys_core::Result<Report> {
    let path = Config::default_path();
    let inspection = doctor::inspect_config(path.as_deref(), |name| std::env::var(name).ok());
    // Nothing configured: the app would start its local environment; so does the doctor.
    let mut local_failed = None;
    let start_local = matches!(subject, Subject::Configured)
        && inspection.config.is_none()
        && inspection.check.verdict == Verdict::Ok;
    let local = if start_local {
        let settings = match Config::load_settings() {
            Ok(Settings::Local(settings)) => settings,
            _ => LocalSettings::default(),
        };
        match core_start::start_local(None, &settings).await {
            Ok(local) => Some(local),
            Err(error) => {
                local_failed = Some(error);
                None
            }
        }
    } else {
        None
    };
    let config = match subject {
        Subject::Running(config) => Some(config),
        _ => inspection
            .config
            .as_ref()
            .or(local.as_ref().map(|(config, _)| config)),
    };
    let service = config.map_or_else(
        || {
            std::env::var("PASSKEYS_KEYCHAIN_SERVICE")
                .ok()
                .filter(|service| !service.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_KEYCHAIN_SERVICE.to_owned())
        },
        |config| config.keychain_service.clone(),
    );
    let scheme = config.map_or_else(
        || DEFAULT_KEYCHAIN_SERVICE.to_owned(),
        Config::deep_link_scheme,
    );
    // Accounts may be on several environments: the window (whose current
    // account's environment `run` checks) and the command line both check
    // every one the configuration names.
    let mut checker = Doctor::new(
        Arc::new(SystemKeychain::new(service)),
        Arc::new(SystemClock),
    )?
    .with_other_environments(configured_environments());
    if let Some(registration) = scheme_registration(scheme) {
        checker = checker.with_scheme(registration);
    }
    if fix {
        checker.fix_scheme()?;
    }
    let environment = match subject {
        Subject::Running(config) => Some(config),
        _ => local.as_ref().map(|(config, _)| config),
    };
    let mut report = checker.run(inspection, environment).await;
    if let Some(error) = local_failed {
        let mut checks = report.checks;
        checks.push(Check::fail(
            "environment",
            format!("Nothing is configured and the local environment did not start: {error}"),
            "Build the emulator and the broker beside the app (`cargo build -p scalekit-emulator -p passkeys-broker`), or configure your environment (see the README).",
        ));
        report = Report::new(checks, report.settings);
    }
    if let Some((_, local)) = &local {
        local.stop();
    }
    Ok(report)
}

/// Every environment the configuration names (none when it cannot be
/// read: the configuration check says what is wrong with the file).
fn configured_environments() -> Vec<Config> {
    let Ok(environments) = Config::load_environments() else {
        return Vec::new();
    };
    environments
        .list
        .into_iter()
        .filter_map(|named| match named.kind {
            EnvironmentKind::Configured(config) => Some(*config),
            _ => None,
        })
        .collect()
}

/// The deep-link registration of this binary (Linux; elsewhere the
/// installer and the system register the scheme).
fn scheme_registration(scheme: String) -> Option<SchemeRegistration> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    // As the deep-link plugin does: an AppImage registers the image.
    let exec = std::env::var_os("APPIMAGE")
        .map_or_else(|| exe.clone(), Into::into)
        .to_string_lossy()
        .into_owned();
    let dirs = directories::BaseDirs::new()?;
    Some(SchemeRegistration {
        applications_dir: dirs.data_dir().join("applications"),
        entry_name: doctor::entry_name_for(&exe)?,
        exec,
        app_name: APP_NAME.to_owned(),
        schemes: vec![scheme],
        defaults: Arc::new(XdgMime),
    })
}
