//! `passkeys-desktop doctor [--fix] [--json]`: wires the core's doctor to
//! this machine (the system keychain, the user's desktop entries and
//! `xdg-mime`, the system clock) and prints its report.

use std::sync::Arc;

use passkeys_core::doctor::{
    self, Check, Doctor, Report, SchemeRegistration, Source, SystemClock, SystemKeychain, Verdict,
    XdgMime,
};
use passkeys_core::{Config, LocalSettings, Settings, DEFAULT_KEYCHAIN_SERVICE};

use super::output::{printable, Output};
use super::{EXIT_FAILED, EXIT_OK};
use crate::core_start;

/// The app's name in the desktop entry (`productName`).
const APP_NAME: &str = "Passkeys";

/// Runs the checks (after re-registering the scheme with `fix`), prints the
/// report, and gives the exit code: 1 when any check failed.
pub async fn run(fix: bool, output: &Output) -> i32 {
    let path = Config::default_path();
    let inspection = doctor::inspect_config(path.as_deref(), |name| std::env::var(name).ok());
    // Nothing configured: the app would start its local environment; so does the doctor.
    let mut local_failed = None;
    let local = if inspection.config.is_none() && inspection.check.verdict == Verdict::Ok {
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
    let config = inspection
        .config
        .as_ref()
        .or(local.as_ref().map(|(config, _)| config));
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
    let mut doctor = match Doctor::new(
        Arc::new(SystemKeychain::new(service)),
        Arc::new(SystemClock),
    ) {
        Ok(doctor) => doctor,
        Err(error) => {
            output.error(&error.into());
            return EXIT_FAILED;
        }
    };
    if let Some(registration) = scheme_registration(scheme) {
        doctor = doctor.with_scheme(registration);
    }
    if fix {
        if let Err(error) = doctor.fix_scheme() {
            output.error(&error.into());
            return EXIT_FAILED;
        }
    }
    let mut report = doctor
        .run(inspection, local.as_ref().map(|(config, _)| config))
        .await;
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
    output.doctor(&report);
    if report.failed() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
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

/// The report for people: one line per check, what to do under a failure,
/// then the settings and their sources.
pub fn text(report: &Report) -> String {
    let mut lines = Vec::new();
    for check in &report.checks {
        let verdict = match check.verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        };
        let subject = check
            .subject
            .as_deref()
            .map(|subject| format!(" ({subject})"))
            .unwrap_or_default();
        lines.push(printable(&format!(
            "{verdict}  {}{subject}: {}",
            check.name, check.detail
        )));
        if let Some(fix) = &check.fix {
            lines.push(printable(&format!("      -> {fix}")));
        }
    }
    lines.push(String::new());
    lines.push("Settings:".to_owned());
    for setting in &report.settings {
        let source = match &setting.source {
            Source::File { path } => format!("file {}", path.display()),
            Source::Environment { variable } => format!("environment variable {variable}"),
            Source::Default => "default".to_owned(),
        };
        let value = setting.value.as_deref().unwrap_or("(none)");
        lines.push(printable(&format!(
            "  {} = {value}  [{source}]",
            setting.name
        )));
    }
    lines.push(String::new());
    lines.push(
        match report.verdict {
            Verdict::Ok => "Everything looks right.",
            Verdict::Warn => "Works, with warnings above.",
            Verdict::Fail => "Something does not work: see FAIL above.",
        }
        .to_owned(),
    );
    lines.join("\n")
}
