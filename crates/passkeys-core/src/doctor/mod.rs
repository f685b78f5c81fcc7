//! The doctor: why sign-in or the keychain does not work on this machine,
//! one check at a time, each with a plain verdict and, when it fails, the one
//! thing to do.
//!
//! Every check reaches the outside world through a seam that tests replace:
//! the keychain through a [`KeychainProbe`], the deep-link registration
//! through [`SchemeRegistration`] (its folders and a [`MimeDefaults`]), time
//! through a [`Clock`], HTTP through the URLs in the configuration.
//!
//! ```no_run
//! # async fn run() -> passkeys_core::Result<()> {
//! use std::sync::Arc;
//! use passkeys_core::doctor::{self, Doctor, SystemClock, SystemKeychain};
//!
//! let inspection = doctor::inspect_config(
//!     passkeys_core::Config::default_path().as_deref(),
//!     |name| std::env::var(name).ok(),
//! );
//! let doctor = Doctor::new(
//!     Arc::new(SystemKeychain::new("dev.passkeys.desktop")),
//!     Arc::new(SystemClock),
//! )?;
//! let report = doctor.run(inspection, None).await;
//! println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
//! # Ok(())
//! # }
//! ```

mod broker;
mod clock;
mod environment;
pub(crate) mod keychain;
mod loopback;
mod scheme;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};

pub use clock::{Clock, SystemClock};
pub use keychain::{KeychainProbe, KeychainStatus, Missing, SystemKeychain};
pub use scheme::{
    entry_name_for, MimeAppsList, MimeDefaults, SchemeRegistration, SchemeState, XdgMime,
};
pub use settings::{inspect_config, ConfigInspection, Setting, Source};

/// How long the doctor waits for one HTTP answer or the keychain.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The clock may be this far off the environment's before the doctor warns.
pub const CLOCK_TOLERANCE: Duration = Duration::from_secs(60);

/// A check's verdict (serialised lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Works.
    Ok,
    /// Works for now, but something will go wrong or looks odd.
    Warn,
    /// Does not work.
    Fail,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked: `config`, `keychain`, `scheme`, `environment`,
    /// `broker`, `clock` or `loopback`.
    pub name: &'static str,
    /// What it was checked for, when there can be several (the environment
    /// or broker URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// What was found, for people.
    pub detail: String,
    /// The one thing to do, when the verdict is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// A repair the app can make itself (the window offers a Fix button
    /// instead of the command `fix` names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair: Option<Repair>,
}

/// A repair the app can make itself (serialised camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Repair {
    /// Register the link scheme for this binary ([`Doctor::fix_scheme`],
    /// what `doctor --fix` does).
    RegisterScheme,
}

impl Check {
    /// A passed check.
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            subject: None,
            verdict: Verdict::Ok,
            detail: detail.into(),
            fix: None,
            repair: None,
        }
    }

    /// A warning, with what to do.
    pub fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            verdict: Verdict::Warn,
            fix: Some(fix.into()),
            ..Check::ok(name, detail)
        }
    }

    /// A failed check, with what to do.
    pub fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            verdict: Verdict::Fail,
            fix: Some(fix.into()),
            ..Check::ok(name, detail)
        }
    }

    /// The same check, about `subject`.
    #[must_use]
    pub fn about(mut self, subject: impl Into<String>) -> Check {
        self.subject = Some(subject.into());
        self
    }

    /// The same check, which the app can repair itself.
    #[must_use]
    pub fn repairable(mut self, repair: Repair) -> Check {
        self.repair = Some(repair);
        self
    }
}

/// Everything the doctor found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The worst verdict of all checks.
    pub verdict: Verdict,
    /// Each check, in the order run.
    pub checks: Vec<Check>,
    /// Every setting with its value and where it came from.
    pub settings: Vec<Setting>,
}

impl Report {
    /// A report of `checks`.
    pub fn new(checks: Vec<Check>, settings: Vec<Setting>) -> Report {
        let verdict = checks
            .iter()
            .map(|check| check.verdict)
            .max()
            .unwrap_or(Verdict::Ok);
        Report {
            verdict,
            checks,
            settings,
        }
    }

    /// True when any check failed (the command line then exits non-zero).
    pub fn failed(&self) -> bool {
        self.verdict == Verdict::Fail
    }

    /// The first check named `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|check| check.name == name)
    }
}

/// Runs the checks with the seams it was given.
pub struct Doctor {
    keychain: Arc<dyn KeychainProbe>,
    clock: Arc<dyn Clock>,
    scheme: Option<SchemeRegistration>,
    /// The other environments checked after the one `run` checks.
    others: Vec<Config>,
    http: reqwest::Client,
}

impl Doctor {
    /// A doctor using `keychain` and `clock`; no deep-link check until
    /// [`Doctor::with_scheme`].
    ///
    /// # Errors
    /// [`Error::Internal`] when the HTTP client cannot be built.
    pub fn new(keychain: Arc<dyn KeychainProbe>, clock: Arc<dyn Clock>) -> Result<Doctor> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CHECK_TIMEOUT)
            .build()
            .map_err(|error| Error::Internal(format!("cannot build the HTTP client: {error}")))?;
        Ok(Doctor {
            keychain,
            clock,
            scheme: None,
            others: Vec::new(),
            http,
        })
    }

    /// Also checks the deep-link scheme's registration (Linux).
    #[must_use]
    pub fn with_scheme(mut self, scheme: SchemeRegistration) -> Doctor {
        self.scheme = Some(scheme);
        self
    }

    /// Also checks these environments (accounts on several environments),
    /// after the one [`Doctor::run`] checks (which is skipped among them):
    /// each one's `environment`, `broker`, `clock` and `loopback`, each check
    /// naming its environment or broker URL.
    #[must_use]
    pub fn with_other_environments(mut self, others: Vec<Config>) -> Doctor {
        self.others = others;
        self
    }

    /// Runs every check. `inspection` is the configuration as read; when it
    /// configures nothing, `local` is the configuration of the local
    /// environment the app starts instead (checked the same way).
    pub async fn run(&self, inspection: ConfigInspection, local: Option<&Config>) -> Report {
        let checked = inspection.config.as_ref().or(local);
        let mut checks = vec![inspection.check.clone()];
        checks.push(keychain::check(self.keychain.clone()).await);
        checks.push(self.scheme_check(checked));
        if let Some(config) = checked {
            checks.extend(self.environment_checks(config).await);
        }
        let same = |a: &Config, b: &Config| {
            a.environment_url == b.environment_url && a.client_id == b.client_id
        };
        for other in &self.others {
            if checked.is_some_and(|checked| same(checked, other)) {
                continue;
            }
            checks.extend(self.environment_checks(other).await);
        }
        let mut settings = inspection.settings;
        if let (None, Some(local)) = (&inspection.config, local) {
            // Nothing configured: the values are the local environment's.
            settings::fill_from(&mut settings, local);
        }
        Report::new(checks, settings)
    }

    /// The `scheme` check: not needed when every environment known here
    /// signs in through a loopback redirect (and returns from sign-out
    /// without a link); else the registration's state, where the doctor
    /// knows it (Linux).
    fn scheme_check(&self, checked: Option<&Config>) -> Check {
        let mut environments = checked.into_iter().chain(&self.others).peekable();
        let known = environments.peek().is_some();
        if known && !environments.any(Config::uses_link_scheme) {
            return scheme::not_needed();
        }
        match &self.scheme {
            Some(scheme) => scheme::check(scheme),
            None => Check::ok(
                "scheme",
                "Not checked here: on Windows and macOS the installer and the system register the link scheme.",
            ),
        }
    }

    /// The checks of one environment and its broker: `environment`,
    /// `broker` (when one is configured), `clock` and `loopback`, each about
    /// that environment's URL.
    pub async fn environment_checks(&self, config: &Config) -> Vec<Check> {
        let found = environment::check(&self.http, self.clock.as_ref(), config).await;
        let mut checks = vec![found.check];
        if let Some(broker) = config.api_url() {
            checks.push(
                broker::check(
                    &self.http,
                    broker,
                    &config.environment_url,
                    &config.client_id,
                )
                .await,
            );
        }
        checks.push(found.clock);
        // The redirect is a setting of each environment: name it.
        let environment = config.environment_url.as_str().trim_end_matches('/');
        checks.push(loopback::check(&config.redirect).about(environment));
        checks
    }

    /// Registers the deep-link scheme for this binary (`doctor --fix`).
    ///
    /// # Errors
    /// [`Error::Config`] when there is nothing to register here or a file
    /// cannot be written.
    pub fn fix_scheme(&self) -> Result<()> {
        match &self.scheme {
            Some(scheme) => scheme.register(),
            None => Err(Error::Config(
                "The link scheme is registered by the installer on this system.".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod verdict_tests;
