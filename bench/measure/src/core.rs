//! The client core alone, in this process, against the emulator and the
//! real keychain: sign-in overhead (callback arriving → session stored,
//! split into the core's `sign_in.*` spans) for loopback and deep-link
//! redirects, and the passkey calls (`list_passkeys` of 20, `rename_passkey`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use passkeys_core::{
    Client, KeyringStore, RedirectMode, SecretStore, DEFAULT_DEEP_LINK_REDIRECT_URI,
};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use url::Url;

use crate::spans::SpanTimes;
use crate::stats::summary_json;
use crate::world::World;
use crate::BenchResult;

/// Sign-ins run first and left out of the numbers (connections, caches).
const WARM_UP: usize = 3;
/// Starts of the app's command line per session state.
const HEADLESS_RUNS: usize = 10;
/// The seeded user's passkeys.
pub const PASSKEYS: usize = 20;

/// The parts of a sign-in the core reports, in order.
const PARTS: [(&str, &str); 3] = [
    ("sign_in.token_request", "code exchange (token request)"),
    ("sign_in.id_token_check", "ID-token check"),
    ("sign_in.keychain_write", "keychain write"),
];

/// Measures sign-in overhead (`sign_in_runs` per redirect mode) and the
/// passkey calls (`call_runs` each); returns the numbers as JSON.
///
/// # Errors
/// When anything along the way fails (the run is then not measured).
pub async fn measure(
    spans: &SpanTimes,
    keychain_service: &str,
    sign_in_runs: usize,
    call_runs: usize,
    app: Option<&Path>,
) -> BenchResult<Value> {
    let world = World::start("bench@example.com", PASSKEYS).await?;
    let deep_link = RedirectMode::DeepLink {
        redirect_uri: Url::parse(DEFAULT_DEEP_LINK_REDIRECT_URI)?,
    };
    let mut sign_in = Map::new();
    for (name, mode) in [
        ("loopback", RedirectMode::Loopback { port: 0 }),
        ("deepLink", deep_link),
    ] {
        let (client, mut urls) = world.client(mode, keychain_service).await?;
        let overhead = sign_in_overhead(&world, &client, &mut urls, spans, sign_in_runs).await?;
        sign_in.insert(name.to_owned(), overhead);
    }
    let (client, mut urls) = world
        .client(RedirectMode::Loopback { port: 0 }, keychain_service)
        .await?;
    sign_in_once(&world, &client, &mut urls).await?;
    let calls = passkey_calls(&client, call_runs).await?;
    let keychain = keychain_operations(keychain_service, call_runs).await?;
    let headless = match app {
        Some(app) => headless_status(app, &world, keychain_service).await?,
        None => Value::Null,
    };
    Ok(json!({"signIn": sign_in, "calls": calls, "keychain": keychain, "headless": headless}))
}

/// Starts of the app's command line, `status --json` (configuration, client
/// core, keychain read; no window), signed in and signed out.
async fn headless_status(app: &Path, world: &World, keychain_service: &str) -> BenchResult<Value> {
    let home = tempfile::Builder::new()
        .prefix("passkeys-bench-cli-")
        .tempdir()?;
    let base = world
        .emulator
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let mut out = Map::new();
    for (name, service, expected) in [
        ("signedIn", keychain_service.to_owned(), "signedIn"),
        (
            "signedOut",
            format!("{keychain_service}.signed-out"),
            "signedOut",
        ),
    ] {
        let mut times = Vec::new();
        for run in 0..WARM_UP + HEADLESS_RUNS {
            let started = Instant::now();
            let output = tokio::process::Command::new(app)
                .args(["status", "--json"])
                .env("PASSKEYS_ENV_URL", &base)
                .env("PASSKEYS_CLIENT_ID", crate::world::CLIENT_ID)
                .env("PASSKEYS_KEYCHAIN_SERVICE", &service)
                .env("XDG_CONFIG_HOME", home.path().join("config"))
                .env("XDG_DATA_HOME", home.path().join("data"))
                .output()
                .await?;
            let elapsed = millis(started.elapsed());
            let text = String::from_utf8_lossy(&output.stdout);
            if !text.contains(expected) {
                return Err(format!("`status --json` said {text:?}, expected {expected}").into());
            }
            if run >= WARM_UP {
                times.push(elapsed);
            }
        }
        out.insert(name.to_owned(), summary_json(&times));
    }
    Ok(Value::Object(out))
}

/// One keychain operation at a time (what the vault's save and load are made
/// of), on a value of one chunk's size, through the app's store (on Linux one
/// Secret Service session kept open). A whole session is also written, to a
/// new entry and over an existing one, through the store and through one
/// `keyring` entry per call (a new connection and session each time, as
/// earlier versions did).
async fn keychain_operations(service: &str, runs: usize) -> BenchResult<Value> {
    let store = Arc::new(KeyringStore::new(service));
    let per_call = KeyringStore::entry_per_call(service);
    let measured = tokio::task::spawn_blocking(move || -> BenchResult<Value> {
        let value = "x".repeat(1200);
        // A whole session in one entry (what the vault writes).
        let session_sized = "x".repeat(3600);
        let (mut set, mut get, mut delete) = (Vec::new(), Vec::new(), Vec::new());
        // [new entry, replaced entry] for the store, then for an entry per call.
        let mut whole: [Vec<f64>; 4] = Default::default();
        for run in 0..WARM_UP + runs {
            let account = format!("bench-operation-{run}");
            let started = Instant::now();
            store.set(&account, &value)?;
            let stored = Instant::now();
            let read = store.get(&account)?;
            let got = Instant::now();
            store.delete(&account)?;
            let deleted = Instant::now();
            let mut times = [0.0; 4];
            for (pair, writer) in [&*store, &per_call].into_iter().enumerate() {
                for replacing in [0, 1] {
                    let started = Instant::now();
                    writer.set(&account, &session_sized)?;
                    times[pair * 2 + replacing] = millis(started.elapsed());
                }
                writer.delete(&account)?;
            }
            if read.as_deref() != Some(value.as_str()) {
                return Err("the keychain gave back something else".into());
            }
            if run >= WARM_UP {
                set.push(millis(stored - started));
                get.push(millis(got - stored));
                delete.push(millis(deleted - got));
                for (times_of, time) in whole.iter_mut().zip(times) {
                    times_of.push(time);
                }
            }
        }
        let [set_whole, replace_whole, set_whole_per_call, replace_whole_per_call] = whole;
        Ok(json!({
            "set": summary_json(&set),
            "get": summary_json(&get),
            "delete": summary_json(&delete),
            "setWholeSession": summary_json(&set_whole),
            "replaceWholeSession": summary_json(&replace_whole),
            "setWholeSessionEntryPerCall": summary_json(&set_whole_per_call),
            "replaceWholeSessionEntryPerCall": summary_json(&replace_whole_per_call),
        }))
    });
    measured.await?
}

/// One sign-in through the hosted login; returns the time from the callback
/// arriving (sent to the loopback listener, or handed over as a deep link)
/// to `sign_in` returning with the session in the keychain.
///
/// # Errors
/// When the sign-in fails.
pub async fn sign_in_once(
    world: &World,
    client: &Client,
    urls: &mut mpsc::UnboundedReceiver<Url>,
) -> BenchResult<Duration> {
    let signing_in = client.clone();
    let task = tokio::spawn(async move {
        let outcome = signing_in.sign_in(|_| {}).await;
        (outcome, Instant::now())
    });
    let authorize_url = urls.recv().await.ok_or("the client opened no browser")?;
    let callback = world.authorize(&authorize_url).await?;
    let started = Instant::now();
    if callback.starts_with("http") {
        world.http.get(&callback).send().await?;
    } else {
        client.handle_deep_link(&callback).await?;
    }
    let (outcome, finished) = task.await?;
    outcome?;
    Ok(finished.saturating_duration_since(started))
}

async fn sign_in_overhead(
    world: &World,
    client: &Client,
    urls: &mut mpsc::UnboundedReceiver<Url>,
    spans: &SpanTimes,
    runs: usize,
) -> BenchResult<Value> {
    let mut totals = Vec::with_capacity(runs);
    let mut parts: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for run in 0..WARM_UP + runs {
        spans.take();
        let total = millis(sign_in_once(world, client, urls).await?);
        let closed = spans.take();
        if run < WARM_UP {
            continue;
        }
        totals.push(total);
        let mut accounted = 0.0;
        for (span, _) in PARTS {
            let part: f64 = closed
                .get(span)
                .map(|times| times.iter().copied().map(millis).sum())
                .ok_or_else(|| format!("the core reported no `{span}` span"))?;
            accounted += part;
            parts.entry(span).or_default().push(part);
        }
        parts
            .entry("rest")
            .or_default()
            .push((total - accounted).max(0.0));
    }
    let mut split = Map::new();
    for (span, label) in PARTS {
        split.insert(
            span.to_owned(),
            json!({"label": label, "ms": summary_json(&parts[span])}),
        );
    }
    split.insert(
        "rest".to_owned(),
        json!({"label": "callback received and handed over, the rest", "ms": summary_json(&parts["rest"])}),
    );
    Ok(json!({"total": summary_json(&totals), "parts": split}))
}

async fn passkey_calls(client: &Client, runs: usize) -> BenchResult<Value> {
    let mut list = Vec::with_capacity(runs);
    let mut first_id = None;
    for _ in 0..WARM_UP + runs {
        let started = Instant::now();
        let passkeys = client.list_passkeys().await?;
        list.push(millis(started.elapsed()));
        if passkeys.len() != PASSKEYS {
            return Err(format!("listed {} passkeys, not {PASSKEYS}", passkeys.len()).into());
        }
        first_id = passkeys.first().map(|passkey| passkey.id.clone());
    }
    let id = first_id.ok_or("no passkey to rename")?;
    let mut rename = Vec::with_capacity(runs);
    for run in 0..WARM_UP + runs {
        let name = if run % 2 == 0 {
            "Work laptop"
        } else {
            "Passkey 1"
        };
        let started = Instant::now();
        let renamed = client.rename_passkey(&id, name).await?;
        rename.push(millis(started.elapsed()));
        if renamed.display_name != name {
            return Err(format!("renamed to {:?}, not {name:?}", renamed.display_name).into());
        }
    }
    Ok(json!({
        "listPasskeys": summary_json(&list[WARM_UP..]),
        "renamePasskey": summary_json(&rename[WARM_UP..]),
    }))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
