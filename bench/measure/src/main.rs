//! The measuring tool behind `bench/run` (see `docs/benchmarks.md`). Not a
//! test: it prints numbers and writes them as JSON; nothing here passes or
//! fails on a time.
//!
//! ```text
//! passkeys-bench core   --out FILE [--sign-in-runs N] [--call-runs N]
//! passkeys-bench window --out FILE --app BIN --baseline BIN [--starts N] [--round-trips N] [--subjects app,baseline,…]
//! passkeys-bench report --results DIR --doc FILE --app BIN --baseline BIN [--emulator BIN] [--app-deb F] [--baseline-deb F]
//! passkeys-bench refresh --out FILE --emulator BIN --oidc-provider DIR [--clients N] [--requests N] [--rounds N] [--compare-emulator BIN --compare-label TEXT]
//! ```
//!
//! `core` and `window` start their own private keychain (a D-Bus session with
//! gnome-keyring) and the emulator in this process; `window` needs an X
//! display (`bench/run` provides Xvfb). `window --round-trips 0` measures
//! start-up and memory only; `PASSKEYS_BENCH_SMAPS=<dir>` keeps each measured
//! process's `/proc/<pid>/smaps` there, `PASSKEYS_BENCH_LOGS=<dir>` its stderr.

mod core;
mod refresh;
mod report;
mod spans;
mod stats;
mod webview;
mod window;
mod world;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use passkeys_core::RedirectMode;
use passkeys_e2e::app::AppConfig;
use passkeys_e2e::keychain::Keychain;
use serde_json::{json, Value};

/// Errors of the tool: reported, then exit status 1.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("core") => options(&args[1..]).and_then(|o| run_core(&o)),
        Some("window") => options(&args[1..]).and_then(|o| run_window(&o)),
        Some("report") => options(&args[1..]).and_then(|o| report::run(&o)),
        Some("refresh") => options(&args[1..]).and_then(|o| refresh::run(&o)),
        _ => Err(
            "usage: passkeys-bench core|window|report|refresh [--option value]… (see the crate docs)"
                .into(),
        ),
    };
    if let Err(error) = outcome {
        eprintln!("passkeys-bench: {error}");
        std::process::exit(1);
    }
}

/// `--name value` pairs.
pub struct Options(HashMap<String, String>);

impl Options {
    /// A required option.
    ///
    /// # Errors
    /// When it is missing.
    pub fn required(&self, name: &str) -> BenchResult<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required").into())
    }

    /// An optional option.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A number, or `default`.
    ///
    /// # Errors
    /// When it is not a number.
    pub fn count(&self, name: &str, default: usize) -> BenchResult<usize> {
        self.optional(name).map_or(Ok(default), |value| {
            value
                .parse()
                .map_err(|_| format!("--{name}: not a number: {value}").into())
        })
    }
}

fn options(args: &[String]) -> BenchResult<Options> {
    let mut map = HashMap::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("expected --option, got {flag}"))?;
        let value = rest
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?;
        map.insert(name.to_owned(), value.clone());
    }
    Ok(Options(map))
}

/// A private keychain, made this process's (the keyring crate reads the
/// bus address from the environment).
fn private_keychain(dir: &Path) -> Keychain {
    let keychain = Keychain::start(dir);
    for (name, value) in keychain.env() {
        std::env::set_var(name, value);
    }
    keychain
}

fn keychain_service() -> String {
    format!("dev.passkeys.bench.{}", std::process::id())
}

fn write_json(path: &str, value: &Value) -> BenchResult<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")?;
    eprintln!("bench: wrote {path}");
    Ok(())
}

fn run_core(options: &Options) -> BenchResult<()> {
    let out = options.required("out")?;
    let sign_in_runs = options.count("sign-in-runs", 50)?;
    let call_runs = options.count("call-runs", 50)?;
    let dir = tempfile::Builder::new()
        .prefix("passkeys-bench-")
        .tempdir()?;
    let _keychain = private_keychain(dir.path());
    let spans = spans::SpanTimes::install()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let app = options.optional("app").map(PathBuf::from);
    let result = runtime.block_on(core::measure(
        &spans,
        &keychain_service(),
        sign_in_runs,
        call_runs,
        app.as_deref(),
    ))?;
    write_json(out, &result)
}

fn run_window(options: &Options) -> BenchResult<()> {
    let out = options.required("out")?;
    let app = PathBuf::from(options.required("app")?);
    let baseline = PathBuf::from(options.required("baseline")?);
    let starts = options.count("starts", 10)?;
    let round_trips = options.count("round-trips", 50)?;
    let dir = tempfile::Builder::new()
        .prefix("passkeys-bench-")
        .tempdir()?;
    let keychain = private_keychain(dir.path());

    // The emulator runs on this runtime's threads while the windows are measured.
    let runtime = tokio::runtime::Runtime::new()?;
    let service = keychain_service();
    let world = runtime.block_on(world::World::start("bench@example.com", core::PASSKEYS))?;
    runtime.block_on(async {
        let (client, mut urls) = world
            .client(RedirectMode::Loopback { port: 0 }, &service)
            .await?;
        core::sign_in_once(&world, &client, &mut urls).await
    })?;

    let home = dir.path();
    let mut env: Vec<(String, String)> = vec![
        (
            "PASSKEYS_ENV_URL".into(),
            world
                .emulator
                .base_url()
                .as_str()
                .trim_end_matches('/')
                .into(),
        ),
        ("PASSKEYS_CLIENT_ID".into(), world::CLIENT_ID.into()),
        (
            "PASSKEYS_API_URL".into(),
            world
                .broker
                .base_url()
                .as_str()
                .trim_end_matches('/')
                .into(),
        ),
        ("PASSKEYS_REDIRECT".into(), "loopback".into()),
        ("PASSKEYS_BROWSER".into(), "true".into()),
        ("PASSKEYS_KEYCHAIN_SERVICE".into(), service.clone()),
        (
            "XDG_CONFIG_HOME".into(),
            home.join("config").display().to_string(),
        ),
        (
            "XDG_DATA_HOME".into(),
            home.join("data").display().to_string(),
        ),
        (
            "XDG_CACHE_HOME".into(),
            home.join("cache").display().to_string(),
        ),
    ];
    env.extend(keychain.env());
    // The same app signed out (nothing under its keychain service), and on a
    // first run with nothing configured (it starts the emulator's and the
    // broker's binaries beside it as child processes, which the memory figure
    // includes as descendants).
    let signed_out = with_env(
        &env,
        &[],
        &[("PASSKEYS_KEYCHAIN_SERVICE", format!("{service}.signed-out"))],
    );
    let embedded = with_env(
        &env,
        &[
            "PASSKEYS_ENV_URL",
            "PASSKEYS_CLIENT_ID",
            "PASSKEYS_API_URL",
            "PASSKEYS_REDIRECT",
        ],
        &[("PASSKEYS_KEYCHAIN_SERVICE", format!("{service}.embedded"))],
    );
    // Where the memory goes: the app draws on the CPU, the bare baseline
    // composites with OpenGL (both their defaults); each is also measured
    // the other way (the same WebKitGTK setting, set the same way).
    let baseline_cpu = with_env(&env, &[], &[("BARE_TAURI_CPU_RENDERING", "1".into())]);
    let app_gpu = with_env(&env, &[], &[("PASSKEYS_GPU_RENDERING", "1".into())]);
    let subject = |name, binary: &PathBuf, env: &Vec<(String, String)>| window::Subject {
        name,
        binary: binary.clone(),
        env: env.clone(),
    };
    let subjects = [
        subject("app", &app, &env),
        subject("baseline", &baseline, &env),
        subject("baselineCpu", &baseline, &baseline_cpu),
        subject("appGpu", &app, &app_gpu),
        subject("appSignedOut", &app, &signed_out),
        subject("appEmbeddedEmulator", &app, &embedded),
    ];
    // `--subjects app,baseline` measures only those (a quick look).
    let chosen = options.optional("subjects");
    let subjects: Vec<window::Subject> = subjects
        .into_iter()
        .filter(|s| chosen.is_none_or(|names| names.split(',').any(|name| name == s.name)))
        .collect();
    let startup = window::measure(&subjects, starts, dir.path())?;
    if round_trips == 0 {
        return write_json(out, &json!({"starts": starts, "startup": startup}));
    }
    let baseline_split = webview::baseline_breakdown(
        &AppConfig {
            binary: baseline.clone(),
            env: env.clone(),
        },
        dir.path(),
    )?;
    let round_trips = webview::measure(
        &AppConfig { binary: app, env },
        core::PASSKEYS,
        round_trips,
        dir.path(),
    )?;
    write_json(
        out,
        &json!({"starts": starts, "idleAfterReadyS": window::IDLE_AFTER_READY.as_secs(), "startup": startup, "webview": round_trips, "baselineStartupBreakdown": baseline_split}),
    )
}

/// `env` without the variables in `remove`, with those in `set` (replacing).
fn with_env(
    env: &[(String, String)],
    remove: &[&str],
    set: &[(&str, String)],
) -> Vec<(String, String)> {
    let mut changed: Vec<(String, String)> = env
        .iter()
        .filter(|(name, _)| {
            !remove.contains(&name.as_str()) && !set.iter().any(|(other, _)| other == name)
        })
        .cloned()
        .collect();
    changed.extend(
        set.iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone())),
    );
    changed
}
