//! `passkeys-desktop doctor --json`, the binary itself, against the emulator
//! and the broker on ephemeral ports: a healthy set-up, no D-Bus session, a
//! locked keyring, a stale scheme registration, a broker trusting another
//! issuer and a clock five minutes off — each named by its check. And item
//! 3 of the doctor's issue: with no D-Bus session, a command that needs the
//! keychain names the missing piece and the doctor.
//!
//! Nothing of the person running the tests is read or written: the
//! configuration comes from variables, the desktop entries and
//! `mimeapps.list` live in a temporary XDG home, and the keychain is either
//! unreachable (a D-Bus address where nothing listens) or a private
//! gnome-keyring.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

mod front;

use serde_json::Value;

use front::skewed_front;

/// The binary under test.
const BINARY: &str = env!("CARGO_BIN_EXE_passkeys-desktop");

/// An environment, optionally a broker, and a temporary home.
struct World {
    runtime: tokio::runtime::Runtime,
    emulator: scalekit_emulator::RunningEmulator,
    broker: Option<passkeys_broker::RunningBroker>,
    home: tempfile::TempDir,
    service: String,
}

impl World {
    /// An emulator and a broker trusting `broker_issuer` (the emulator's own
    /// issuer unless another is given).
    fn new(
        broker_for_another_environment: bool,
    ) -> (World, Option<scalekit_emulator::RunningEmulator>) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let start = || {
            runtime
                .block_on(scalekit_emulator::start(
                    scalekit_emulator::Config::for_tests(),
                ))
                .unwrap()
        };
        let emulator = start();
        let other = broker_for_another_environment.then(start);
        let trusted = other.as_ref().unwrap_or(&emulator).base_url().clone();
        let mut config = passkeys_broker::Config::new(
            trusted,
            "ntvc_demo",
            "skc_demo",
            passkeys_broker::ClientSecret::new(scalekit_emulator::config::TEST_CLIENT_SECRET),
        );
        config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let broker = runtime.block_on(passkeys_broker::start(config)).unwrap();
        let service = format!("passkeys-doctor-test-{}", std::process::id());
        (
            World {
                runtime,
                emulator,
                broker: Some(broker),
                home: tempfile::tempdir().unwrap(),
                service,
            },
            other,
        )
    }

    /// The binary, configured for this world.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command.args(args);
        self.configure(&mut command);
        command
    }

    /// Configures `command` for this world, with a temporary XDG home and no
    /// display.
    fn configure(&self, command: &mut Command) {
        let home = self.home.path();
        command
            .env("PASSKEYS_CONFIG", home.join("none.toml"))
            .env("PASSKEYS_ENV_URL", self.emulator.base_url().as_str())
            .env("PASSKEYS_CLIENT_ID", "ntvc_demo")
            .env("PASSKEYS_KEYCHAIN_SERVICE", &self.service)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("HOME", home)
            .env_remove("PASSKEYS_API_URL")
            .env_remove("PASSKEYS_REDIRECT")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        if let Some(broker) = &self.broker {
            command.env("PASSKEYS_API_URL", broker.base_url().as_str());
        }
    }

    /// The same, with a D-Bus session address where nothing listens.
    fn without_bus(&self, args: &[&str]) -> Command {
        let mut command = self.command(args);
        command.env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", self.home.path().join("no-bus").display()),
        );
        command
    }
}

/// Runs `command`: exit code, stdout as JSON (`Null` when empty, a string
/// when not JSON), stderr.
fn run(mut command: Command) -> (Option<i32>, Value, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    // JSON with --json; the text otherwise.
    let json = if stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&stdout)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&stdout).into_owned()))
    };
    (status.code(), json, stderr)
}

/// The check named `name` in a report.
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report:#}"))
}

/// `name`'s verdict, detail and fix.
fn verdict<'a>(report: &'a Value, name: &str) -> (&'a str, &'a str, &'a str) {
    let check = check(report, name);
    (
        check["verdict"].as_str().unwrap(),
        check["detail"].as_str().unwrap(),
        check["fix"].as_str().unwrap_or_default(),
    )
}

/// Registers the scheme in the world's XDG home (`doctor --fix`).
fn register_scheme(world: &World) {
    let (code, _, stderr) = run(world.without_bus(&["doctor", "--fix", "--json"]));
    assert!(code.is_some(), "{stderr}");
    let entry = world
        .home
        .path()
        .join("data/applications/passkeys-desktop-handler.desktop");
    assert!(entry.is_file(), "--fix wrote no desktop entry: {stderr}");
}

#[test]
#[ignore = "needs a Secret Service session: run through the project's test script"]
fn doctor_json_on_a_healthy_set_up_is_all_ok_and_exits_0() {
    // Given an environment, its broker, a keyring and a registered scheme
    let (world, _) = World::new(false);
    let (code, _, stderr) = run(world.command(&["doctor", "--fix"]));
    assert_eq!(code, Some(0), "{stderr}");
    // When the doctor runs
    let (code, report, stderr) = run(world.command(&["doctor", "--json"]));
    // Then every check is ok, and the exit status says so
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["verdict"], "ok", "{check}\n{stderr}");
    }
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| check["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "config",
            "keychain",
            "scheme",
            "environment",
            "broker",
            "clock",
            "loopback"
        ]
    );
    assert_eq!(report["verdict"], "ok");
    assert_eq!(code, Some(0), "{stderr}");
    let api_url = report["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|setting| setting["name"] == "api_url")
        .unwrap();
    assert_eq!(api_url["source"]["kind"], "environment", "{api_url}");
    assert_eq!(
        api_url["source"]["variable"], "PASSKEYS_API_URL",
        "{api_url}"
    );
    // Printed for the record (the README shows this shape).
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

#[test]
fn doctor_json_without_a_d_bus_session_names_it_and_exits_1() {
    // Given a machine with no D-Bus session (the address points nowhere)
    let (world, _) = World::new(false);
    register_scheme(&world);
    // When the doctor runs
    let (code, report, stderr) = run(world.without_bus(&["doctor", "--json"]));
    // Then the keychain check fails naming the session bus, and only it
    let (verdict_of_keychain, detail, fix) = verdict(&report, "keychain");
    assert_eq!(verdict_of_keychain, "fail", "{report:#}");
    assert!(detail.contains("no D-Bus session bus"), "{detail}");
    assert!(fix.contains("dbus-run-session"), "{fix}");
    for name in [
        "config",
        "scheme",
        "environment",
        "broker",
        "clock",
        "loopback",
    ] {
        assert_eq!(verdict(&report, name).0, "ok", "{name}: {report:#}");
    }
    assert_eq!(report["verdict"], "fail");
    assert_eq!(code, Some(1), "{stderr}");
}

#[test]
fn a_command_that_needs_the_keychain_without_a_d_bus_session_names_it_and_the_doctor() {
    // Given no D-Bus session
    let (world, _) = World::new(false);
    // When a command that reads the keychain runs
    for args in [&["status", "--json"][..], &["passkeys", "list", "--json"]] {
        let (code, _, stderr) = run(world.without_bus(args));
        // Then it fails as a keychain error naming the missing piece and the doctor
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        let error: Value = serde_json::from_str(stderr.trim()).unwrap();
        assert_eq!(error["kind"], "keychain", "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("no D-Bus session bus"), "{message}");
        assert!(message.contains("passkeys-desktop doctor"), "{message}");
        assert!(message.contains("not stored anywhere else"), "{message}");
    }
}

#[test]
fn doctor_json_with_a_stale_scheme_registration_names_it() {
    // Given a desktop entry that runs a binary that has moved
    let (world, _) = World::new(false);
    register_scheme(&world);
    let entry = world
        .home
        .path()
        .join("data/applications/passkeys-desktop-handler.desktop");
    let text = std::fs::read_to_string(&entry).unwrap();
    let exec = text.lines().find(|line| line.starts_with("Exec=")).unwrap();
    std::fs::write(
        &entry,
        text.replace(exec, "Exec=\"/opt/old/passkeys-desktop\" %u"),
    )
    .unwrap();
    // When the doctor runs, for a sign-in that comes back by the deep link
    let by_link = |args: &[&str]| {
        let mut command = world.without_bus(args);
        command.env("PASSKEYS_REDIRECT", "deeplink");
        command
    };
    let (code, report, _) = run(by_link(&["doctor", "--json"]));
    // Then the scheme check fails, naming the stale program and --fix, and
    // the window may repair it itself
    let (scheme, detail, fix) = verdict(&report, "scheme");
    assert_eq!(scheme, "fail", "{report:#}");
    assert!(detail.contains("/opt/old/passkeys-desktop"), "{detail}");
    assert!(detail.contains("stale"), "{detail}");
    assert!(fix.contains("passkeys-desktop doctor --fix"), "{fix}");
    assert_eq!(check(&report, "scheme")["repair"], "registerScheme");
    assert_eq!(code, Some(1));
    // And --fix repairs it
    let (_, report, _) = run(by_link(&["doctor", "--fix", "--json"]));
    assert_eq!(verdict(&report, "scheme").0, "ok", "{report:#}");
}

#[test]
fn doctor_json_with_a_loopback_redirect_needs_no_link_scheme() {
    // Given a sign-in that comes back to the loopback, and no scheme registered
    let (world, _) = World::new(false);
    for redirect in [None, Some("loopback")] {
        let mut command = world.without_bus(&["doctor", "--json"]);
        if let Some(redirect) = redirect {
            command.env("PASSKEYS_REDIRECT", redirect);
        }
        // When the doctor runs
        let (_, report, stderr) = run(command);
        // Then the scheme check says it is not needed: ok, nothing to fix
        let (scheme, detail, fix) = verdict(&report, "scheme");
        assert_eq!(scheme, "ok", "{report:#}\n{stderr}");
        assert!(detail.starts_with("Not needed"), "{detail}");
        assert_eq!(fix, "");
        assert!(check(&report, "scheme").get("repair").is_none());
        // And only the keychain (no D-Bus session here) fails
        let failed: Vec<&str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|check| check["verdict"] == "fail")
            .map(|check| check["name"].as_str().unwrap())
            .collect();
        assert_eq!(failed, ["keychain"], "{report:#}");
    }
    let entry = world
        .home
        .path()
        .join("data/applications/passkeys-desktop-handler.desktop");
    assert!(!entry.exists(), "the doctor registered nothing");
}

#[test]
fn doctor_json_with_a_broker_trusting_another_issuer_names_it() {
    // Given a broker configured for a second environment
    let (world, other) = World::new(true);
    register_scheme(&world);
    // When the doctor runs
    let (code, report, _) = run(world.without_bus(&["doctor", "--json"]));
    // Then the broker check fails, naming the issuer it trusts
    let (broker, detail, fix) = verdict(&report, "broker");
    assert_eq!(broker, "fail", "{report:#}");
    let theirs = other
        .unwrap()
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    assert!(
        detail.contains(&format!("another environment, {theirs}")),
        "{detail}"
    );
    assert!(fix.contains("api_url"), "{fix}");
    assert_eq!(verdict(&report, "environment").0, "ok", "{report:#}");
    assert_eq!(code, Some(1));
}

#[test]
fn doctor_json_with_a_clock_five_minutes_off_warns() {
    // Given an environment whose clock is five minutes ahead of this
    // machine's (faked: a front that serves the emulator's discovery with
    // a Date header five minutes ahead), and no broker
    let (mut world, _) = World::new(false);
    world.broker = None;
    register_scheme(&world);
    let front = world
        .runtime
        .block_on(skewed_front(world.emulator.base_url(), 5 * 60));
    let mut command = world.without_bus(&["doctor", "--json"]);
    command.env("PASSKEYS_ENV_URL", front.as_str());
    // When the doctor runs
    let (code, report, stderr) = run(command);
    // Then the clock warns that this machine is five minutes behind
    let (clock, detail, fix) = verdict(&report, "clock");
    assert_eq!(clock, "warn", "{report:#}");
    assert!(detail.contains("5 minutes behind"), "{detail}");
    assert!(detail.contains("expired or not yet valid"), "{detail}");
    assert!(fix.contains("clock"), "{fix}");
    assert_eq!(verdict(&report, "environment").0, "ok", "{report:#}");
    // (only the keychain fails here: there is no D-Bus session)
    assert_eq!(code, Some(1), "{stderr}");
}

#[test]
#[ignore = "needs gnome-keyring for a Secret Service session of its own: run through the project's test script"]
fn doctor_json_with_a_locked_keyring_names_it() {
    // Given a real gnome-keyring in a D-Bus session of its own, whose
    // default collection is then locked through the Secret Service API
    // (org.freedesktop.Secret.Service.Lock: no prompt is needed to lock)
    let (world, _) = World::new(false);
    register_scheme(&world);
    let keyring_home = world.home.path().join("keyring");
    std::fs::create_dir_all(&keyring_home).unwrap();
    // The report goes to a file: the bus's own children (a keyring daemon it
    // activates) write to the session's stdout.
    let script = r#"set -e
export XDG_DATA_HOME="$KEYRING_HOME"
eval "$(printf test-keyring-password | gnome-keyring-daemon --unlock --components=secrets)"
collection=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.secrets \
  /org/freedesktop/secrets org.freedesktop.Secret.Service.ReadAlias string:default | tr -d ' ')
dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
  org.freedesktop.Secret.Service.Lock "array:objpath:$collection" >/dev/null
export XDG_DATA_HOME="$DOCTOR_DATA_HOME"
exec "$BINARY" doctor --json >"$REPORT""#;
    let mut session = Command::new("dbus-run-session");
    session.args(["--", "sh", "-c", script]);
    world.configure(&mut session);
    session
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("KEYRING_HOME", &keyring_home)
        .env("DOCTOR_DATA_HOME", world.home.path().join("data"))
        .env("BINARY", BINARY)
        .env("REPORT", world.home.path().join("report.json"));
    // When the doctor runs there
    let (code, _, stderr) = run(session);
    let report: Value =
        serde_json::from_slice(&std::fs::read(world.home.path().join("report.json")).unwrap())
            .unwrap_or_else(|error| panic!("{error}\n{stderr}"));
    // Then the keychain check fails, saying it is locked
    let (keychain, detail, fix) = verdict(&report, "keychain");
    assert_eq!(keychain, "fail", "{report:#}\n{stderr}");
    assert!(detail.contains("is locked"), "{detail}");
    assert!(fix.contains("Unlock"), "{fix}");
    for name in [
        "config",
        "scheme",
        "environment",
        "broker",
        "clock",
        "loopback",
    ] {
        assert_eq!(verdict(&report, name).0, "ok", "{name}: {report:#}");
    }
    assert_eq!(code, Some(1), "{stderr}");
}

#[test]
fn doctor_json_checks_every_configured_environment_and_names_each() {
    // Given two named environments (accounts on both): east with its own
    // broker, west whose broker trusts east instead
    let (east, _) = World::new(false);
    let (west, _) = World::new(false);
    let east_url = east
        .emulator
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let west_url = west
        .emulator
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let east_broker = east.broker.as_ref().unwrap().base_url().as_str().to_owned();
    let config = east.home.path().join("two.toml");
    std::fs::write(
        &config,
        format!(
            "[environments.east]\nenvironment_url = \"{east_url}\"\nclient_id = \"ntvc_demo\"\napi_url = \"{east_broker}\"\n\n\
             [environments.west]\nenvironment_url = \"{west_url}\"\nclient_id = \"ntvc_demo\"\napi_url = \"{east_broker}\"\n"
        ),
    )
    .unwrap();
    register_scheme(&east);
    let mut command = east.without_bus(&["doctor", "--json"]);
    command
        .env("PASSKEYS_CONFIG", &config)
        .env_remove("PASSKEYS_ENV_URL")
        .env_remove("PASSKEYS_CLIENT_ID")
        .env_remove("PASSKEYS_API_URL");

    // When the doctor runs
    let (code, report, stderr) = run(command);

    // Then each environment is checked and named, and the broker that
    // trusts another environment fails for west only
    let checks: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{stderr}"))
        .iter()
        .collect();
    let about = |name: &str, subject: &str| -> Vec<&str> {
        checks
            .iter()
            .filter(|c| {
                c["name"] == name && c["subject"].as_str().is_some_and(|s| s.contains(subject))
            })
            .map(|c| c["verdict"].as_str().unwrap())
            .collect()
    };
    assert_eq!(about("environment", &east_url), ["ok"], "{report:#}");
    assert_eq!(about("environment", &west_url), ["ok"], "{report:#}");
    assert_eq!(about("clock", &east_url), ["ok"], "{report:#}");
    assert_eq!(about("clock", &west_url), ["ok"], "{report:#}");
    assert_eq!(about("loopback", &east_url), ["ok"], "{report:#}");
    assert_eq!(about("loopback", &west_url), ["ok"], "{report:#}");
    let brokers: Vec<&&Value> = checks.iter().filter(|c| c["name"] == "broker").collect();
    assert_eq!(brokers.len(), 2, "{report:#}");
    let verdicts: Vec<&str> = brokers
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["ok", "fail"], "{report:#}");
    assert!(
        brokers[1]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("another environment, {east_url}")),
        "{report:#}"
    );
    assert_eq!(code, Some(1));
    drop(west);
}
