//! Starting the two servers under test: the emulator's release binary
//! (chains from sign-ins through its hosted login) and oidc-provider (it
//! seeds its chains itself).
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::Client;
use scalekit_emulator::{testing, DevMailbox};
use serde_json::Value;
use tokio::process::{Child, Command};
use url::Url;

use super::{rotated, Server};
use crate::BenchResult;

const EMULATOR_CLIENT_ID: &str = "ntvc_demo";
const EMULATOR_REDIRECT: &str = "http://127.0.0.1/callback";
const OIDC_PROVIDER_CLIENT_ID: &str = "bench";
const START_TIMEOUT: Duration = Duration::from_secs(30);

fn free_port() -> BenchResult<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_until_up(http: &Client, url: &Url, child: &mut Child) -> BenchResult<()> {
    let started = Instant::now();
    loop {
        if let Ok(response) = http.get(url.clone()).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("{url}: the server exited ({status})").into());
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(format!("{url} did not answer within {START_TIMEOUT:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The emulator's dev mailbox, from the second line of its stdout (the
/// rest, its mail, is read and dropped so the pipe never fills).
async fn dev_mailbox(child: &mut Child) -> BenchResult<DevMailbox> {
    use tokio::io::AsyncBufReadExt as _;

    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let _base = lines.next_line().await?;
    let line = lines.next_line().await?.ok_or("the emulator stopped")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(DevMailbox::parse(&line)?)
}

/// The emulator's release binary, in memory, logging warnings only; one
/// chain per client, each from a sign-in through the hosted login.
pub(super) async fn start_emulator(
    binary: &Path,
    name: &str,
    http: &Client,
    clients: usize,
) -> BenchResult<Server> {
    let port = free_port()?;
    let mut child = Command::new(binary)
        .args(["--in-memory", "--no-admin", "--exit-on-stdin-close"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or("the emulator has no pid")?;
    let mailbox = tokio::time::timeout(START_TIMEOUT, dev_mailbox(&mut child))
        .await
        .map_err(|_| "the emulator did not print its dev mailbox in time")??;
    // Its public URL (the issuer, where the login pages send the browser):
    // WebAuthn wants a domain, so `localhost` rather than 127.0.0.1.
    let base = Url::parse(&format!("http://localhost:{port}/"))?;
    wait_until_up(
        http,
        &base.join("/.well-known/openid-configuration")?,
        &mut child,
    )
    .await?;
    let token_endpoint = base.join("/oauth/token")?;
    let mut chains = Vec::with_capacity(clients);
    for index in 0..clients {
        let browser = testing::browser_client()?;
        let email = format!("refresh-{index}@example.com");
        let tokens = testing::CodeFlow::new(&base)
            .with_client(EMULATOR_CLIENT_ID, EMULATOR_REDIRECT)
            .tokens(&browser, testing::Login::EmailCode(&email, &mailbox))
            .await?;
        chains.push(rotated(&tokens.body)?);
    }
    Ok(Server::new(
        name,
        child,
        pid,
        token_endpoint,
        EMULATOR_CLIENT_ID,
        chains,
    ))
}

/// `node bench/oidc-provider/server.mjs`: it seeds the chains itself and
/// prints them.
pub(super) async fn start_oidc_provider(dir: &Path, clients: usize) -> BenchResult<Server> {
    use tokio::io::AsyncBufReadExt as _;

    let port = free_port()?;
    let mut child = Command::new("node")
        .arg(dir.join("server.mjs"))
        .env("PORT", port.to_string())
        .env("CHAINS", clients.to_string())
        .env("NODE_ENV", "production")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or("node has no pid")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    tokio::time::timeout(
        START_TIMEOUT,
        tokio::io::BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .map_err(|_| "oidc-provider did not start in time")??;
    let started: Value =
        serde_json::from_str(&line).map_err(|e| format!("oidc-provider printed {line:?}: {e}"))?;
    let chains = started["refreshTokens"]
        .as_array()
        .ok_or("no refreshTokens")?
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    let issuer = started["issuer"].as_str().ok_or("no issuer")?;
    Ok(Server::new(
        "oidc-provider",
        child,
        pid,
        Url::parse(&format!("{issuer}/token"))?,
        OIDC_PROVIDER_CLIENT_ID,
        chains,
    ))
}
