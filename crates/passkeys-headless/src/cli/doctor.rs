//! `passkeys-desktop doctor [--fix] [--json]`: runs the doctor on this
//! machine ([`crate::diagnose`]) and prints its report.

use passkeys_core::doctor::{Report, Source, Verdict};

use super::output::{printable, Output};
use super::{EXIT_FAILED, EXIT_OK};
use crate::diagnose::{diagnose, Subject};

/// Runs the checks (after re-registering the scheme with `fix`), prints the
/// report, and gives the exit code: 1 when any check failed.
pub async fn run(fix: bool, output: &Output) -> i32 {
    match diagnose(fix, Subject::Configured).await {
        Ok(report) => {
            output.doctor(&report);
            if report.failed() {
                EXIT_FAILED
            } else {
                EXIT_OK
            }
        }
        Err(error) => {
            output.error(&error.into());
            EXIT_FAILED
        }
    }
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
