//! `passkeys-bench refresh`: the emulator's refresh-token grant against
//! panva `oidc-provider` (`bench/oidc-provider`), driven the same way in the
//! same run. Each server runs as its own process on loopback; each of
//! `--clients` clients keeps its own rotating chain (the refresh token a call
//! returns is the one the next call sends). The servers take turns for
//! `--rounds` rounds of `--requests` requests, after a warm-up; the CPU time
//! of each server process (`/proc/<pid>/stat`, utime + stime) is read before
//! and after each turn.
//!
//! After the turns, with the servers stopped, it measures the floor under
//! the emulator's figure (`floor`): what its two signatures per refresh cost
//! with every core signing.
//!
//! The driver runs on one thread (a current-thread runtime), so that it
//! takes the same share of the two cores from either server.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};
use tokio::process::Child;
use url::Url;

use crate::{stats, BenchResult, Options};

mod floor;
mod servers;

use servers::{start_emulator, start_oidc_provider};

const WARM_UP_PER_CHAIN: usize = 50;

/// One server under test: its process, its token endpoint and the chains.
struct Server {
    name: String,
    child: Child,
    pid: u32,
    token_endpoint: Url,
    client_id: &'static str,
    chains: Vec<String>,
    /// What the first answer's tokens are, from their JOSE headers.
    signs: String,
    latencies: Vec<Duration>,
    /// Requests per second of each turn.
    throughputs: Vec<f64>,
    requests: usize,
    cpu_seconds: f64,
    /// The driver's own CPU time during this server's turns.
    driver_cpu_seconds: f64,
}

/// Runs the subcommand.
///
/// # Errors
/// When a server does not start or answers a refresh with an error.
pub fn run(options: &Options) -> BenchResult<()> {
    let out = options.required("out")?;
    let emulator = PathBuf::from(options.required("emulator")?);
    let oidc_provider = PathBuf::from(options.required("oidc-provider")?);
    // Another build of the emulator in the same rotation (e.g. before a change).
    let compare = options
        .optional("compare-emulator")
        .map(|bin| (PathBuf::from(bin), options.optional("compare-label")));
    let clients = options.count("clients", 8)?;
    let requests = options.count("requests", 3_000)?;
    let rounds = options.count("rounds", 3)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(measure(
        &emulator,
        compare.as_ref().map(|(bin, label)| {
            (
                bin.as_path(),
                label.unwrap_or("scalekit-emulator, other build"),
            )
        }),
        &oidc_provider,
        clients,
        requests,
        rounds,
    ))?;
    crate::write_json(out, &result)
}

async fn measure(
    emulator: &Path,
    compare: Option<(&Path, &str)>,
    oidc_provider: &Path,
    clients: usize,
    requests: usize,
    rounds: usize,
) -> BenchResult<Value> {
    let load_before = load_average();
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut servers = vec![
        start_emulator(emulator, "scalekit-emulator", &http, clients).await?,
        start_oidc_provider(oidc_provider, clients).await?,
    ];
    if let Some((binary, label)) = compare {
        servers.push(start_emulator(binary, label, &http, clients).await?);
    }
    for server in &mut servers {
        let first = refresh_once(&http, server, 0).await?;
        server.signs = describe_tokens(&first);
        for _ in 0..WARM_UP_PER_CHAIN {
            turn(&http, server, clients, false).await?;
        }
    }
    for _ in 0..rounds {
        for server in &mut servers {
            let cpu_before = cpu_seconds(server.pid)?;
            let driver_before = cpu_seconds(std::process::id())?;
            let started = Instant::now();
            let latencies = turn(&http, server, requests, true).await?;
            let wall = started.elapsed();
            server.cpu_seconds += cpu_seconds(server.pid)? - cpu_before;
            server.driver_cpu_seconds += cpu_seconds(std::process::id())? - driver_before;
            server
                .throughputs
                .push(latencies.len() as f64 / wall.as_secs_f64());
            server.requests += latencies.len();
            server.latencies.extend(latencies);
        }
    }
    for server in &mut servers {
        // Closing stdin stops both (`--exit-on-stdin-close`, and the script).
        drop(server.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(10), server.child.wait())
            .await
            .is_err()
        {
            server.child.kill().await?;
        }
    }
    let load_after = load_average();
    let floor = floor::measure().await?;
    let rows: Vec<Value> = servers.iter().map(summary).collect();
    print_table(&servers, clients, rounds, &load_before, &load_after);
    let baseline_cpu_ms = servers
        .iter()
        .find(|s| s.name == "oidc-provider")
        .map(Server::cpu_per_request_ms);
    print_floor(&floor, baseline_cpu_ms);
    Ok(json!({
        "signingFloor": floor.to_json(baseline_cpu_ms),
        "clients": clients,
        "requestsPerTurn": requests,
        "rounds": rounds,
        "loadBefore": load_before,
        "loadAfter": load_after,
        "servers": rows,
    }))
}

/// `requests` refreshes split over the chains, each chain one after the
/// other; returns the latencies if `timed`.
async fn turn(
    http: &Client,
    server: &mut Server,
    requests: usize,
    timed: bool,
) -> BenchResult<Vec<Duration>> {
    let per_chain = requests.div_ceil(server.chains.len()).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, chain) in std::mem::take(&mut server.chains).into_iter().enumerate() {
        let http = http.clone();
        let endpoint = server.token_endpoint.clone();
        let client_id = server.client_id;
        tasks.spawn(async move {
            let mut chain = chain;
            let mut latencies = Vec::with_capacity(per_chain);
            for _ in 0..per_chain {
                let sent = Instant::now();
                let answer = refresh(&http, &endpoint, client_id, &chain).await?;
                if timed {
                    latencies.push(sent.elapsed());
                }
                chain = rotated(&answer)?;
            }
            BenchResult::Ok((index, chain, latencies))
        });
    }
    let mut chains = Vec::new();
    let mut latencies = Vec::with_capacity(requests);
    while let Some(joined) = tasks.join_next().await {
        let (index, chain, mut taken) = joined??;
        chains.push((index, chain));
        latencies.append(&mut taken);
    }
    chains.sort();
    server.chains = chains.into_iter().map(|(_, chain)| chain).collect();
    Ok(latencies)
}

async fn refresh_once(http: &Client, server: &mut Server, chain: usize) -> BenchResult<Value> {
    let answer = refresh(
        http,
        &server.token_endpoint,
        server.client_id,
        &server.chains[chain],
    )
    .await?;
    server.chains[chain] = rotated(&answer)?;
    Ok(answer)
}

async fn refresh(
    http: &Client,
    endpoint: &Url,
    client_id: &str,
    refresh_token: &str,
) -> BenchResult<Value> {
    let response = http
        .post(endpoint.clone())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        return Err(format!(
            "refresh at {endpoint}: {status}: {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    Ok(serde_json::from_slice(&body)?)
}

fn rotated(answer: &Value) -> BenchResult<String> {
    Ok(answer["refresh_token"]
        .as_str()
        .ok_or("the answer has no refresh token")?
        .to_owned())
}

/// "access token: RS256 JWT (typ at+jwt); ID token: RS256 JWT" from the
/// tokens' headers.
fn describe_tokens(answer: &Value) -> String {
    let describe = |field: &str| {
        let Some(token) = answer[field].as_str() else {
            return "none".to_owned();
        };
        let header = token
            .split('.')
            .next()
            .filter(|_| token.split('.').count() == 3)
            .and_then(|part| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part)
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        match header {
            Some(header) => format!(
                "{} JWT{}",
                header["alg"].as_str().unwrap_or("?"),
                header["typ"]
                    .as_str()
                    .map(|typ| format!(" (typ {typ})"))
                    .unwrap_or_default()
            ),
            None => format!("opaque, {} characters", token.len()),
        }
    };
    format!(
        "access token: {}; ID token: {}",
        describe("access_token"),
        describe("id_token")
    )
}

/// The process's user + system CPU time so far, in seconds.
fn cpu_seconds(pid: u32) -> BenchResult<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces), from field 3.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("unreadable /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15, so 11 and 12 here.
    let ticks: u64 = fields
        .get(11)
        .zip(fields.get(12))
        .and_then(|(utime, stime)| Some(utime.parse::<u64>().ok()? + stime.parse::<u64>().ok()?))
        .ok_or("unreadable utime/stime")?;
    Ok(ticks as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

impl Server {
    fn new(
        name: &str,
        child: Child,
        pid: u32,
        token_endpoint: Url,
        client_id: &'static str,
        chains: Vec<String>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            child,
            pid,
            token_endpoint,
            client_id,
            chains,
            signs: String::new(),
            latencies: Vec::new(),
            throughputs: Vec::new(),
            requests: 0,
            cpu_seconds: 0.0,
            driver_cpu_seconds: 0.0,
        }
    }

    fn throughput(&self) -> f64 {
        stats::Summary::of(&self.throughputs).map_or(0.0, |s| s.median)
    }

    fn cpu_per_request_ms(&self) -> f64 {
        1000.0 * self.cpu_seconds / self.requests.max(1) as f64
    }

    fn per_cpu_second(&self) -> f64 {
        self.requests as f64 / self.cpu_seconds.max(f64::EPSILON)
    }
}

fn millis(values: &[Duration]) -> Vec<f64> {
    values.iter().map(|d| d.as_secs_f64() * 1000.0).collect()
}

fn latency(server: &Server) -> (f64, f64) {
    stats::Summary::of(&millis(&server.latencies)).map_or((0.0, 0.0), |s| (s.median, s.p95))
}

fn summary(server: &Server) -> Value {
    let (p50, p95) = latency(server);
    json!({
        "name": server.name,
        "signs": server.signs,
        "requests": server.requests,
        "p50Ms": p50,
        "p95Ms": p95,
        "requestsPerSecondByTurn": server.throughputs,
        "requestsPerSecond": server.throughput(),
        "cpuSeconds": server.cpu_seconds,
        "requestsPerCpuSecond": server.per_cpu_second(),
        "driverCpuSeconds": server.driver_cpu_seconds,
    })
}

fn print_table(servers: &[Server], clients: usize, rounds: usize, before: &str, after: &str) {
    println!(
        "Refresh-token grant, {clients} concurrent clients each on its own rotating chain, \
         {rounds} turns each (servers alternating); load average {before} before, {after} after."
    );
    println!();
    println!("| server | what it signs | requests | p50 | p95 | throughput (median of turns) | requests per server CPU-second | server's CPU per request | driver's CPU per request |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for server in servers {
        let (p50, p95) = latency(server);
        println!(
            "| {} | {} | {} | {:.2} ms | {:.2} ms | {:.0} req/s | {:.0} | {:.3} ms | {:.3} ms |",
            server.name,
            server.signs,
            server.requests,
            p50,
            p95,
            server.throughput(),
            server.per_cpu_second(),
            server.cpu_per_request_ms(),
            1000.0 * server.driver_cpu_seconds / server.requests.max(1) as f64,
        );
    }
    let Some(baseline) = servers.iter().find(|s| s.name == "oidc-provider") else {
        return;
    };
    for server in servers.iter().filter(|s| s.name != baseline.name) {
        println!(
            "| {} / oidc-provider | | | | | {:.2}× | {:.2}× | | |",
            server.name,
            server.throughput() / baseline.throughput(),
            server.per_cpu_second() / baseline.per_cpu_second(),
        );
    }
}

/// The floor's two rows: its CPU per refresh, and the ratio per CPU-second
/// the emulator would reach if signing were all it did.
fn print_floor(floor: &floor::SigningFloor, baseline_cpu_ms: Option<f64>) {
    println!(
        "| floor: the emulator's two RS256 signatures per refresh alone (its signing code, OpenSSL, every core signing) | | | | | | | {:.3} ms | |",
        floor.per_refresh_ms()
    );
    if let Some(baseline) = baseline_cpu_ms {
        println!(
            "| ceiling: oidc-provider's CPU per refresh / the floor | | | | | | {:.2}× | | |",
            baseline / floor.per_refresh_ms()
        );
    }
}
