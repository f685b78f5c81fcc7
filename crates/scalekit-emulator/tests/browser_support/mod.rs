//! A minimal W3C WebDriver client over HTTP (reqwest + JSON) for chromedriver,
//! with Chromium's WebAuthn virtual-authenticator extension.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long to wait for a page to reach an expected state before giving up.
pub const WAIT: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// chromedriver + one Chromium session. Dropping it ends the session and
/// kills the chromedriver process group, even when the test failed.
pub struct Browser {
    driver: Child,
    driver_addr: SocketAddr,
    base: String,
    session: Option<String>,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
    screenshots: PathBuf,
    shot: usize,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start(screenshots: &Path) -> Browser {
        let chromium = std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver =
            std::env::var("CHROMEDRIVER_BIN").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port();
        let driver_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut command = Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
        let profile = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(screenshots).unwrap();
        for entry in std::fs::read_dir(screenshots).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "png") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let mut browser = Browser {
            driver,
            driver_addr,
            base: format!("http://127.0.0.1:{port}"),
            session: None,
            http: reqwest::Client::new(),
            _profile: profile,
            screenshots: screenshots.to_path_buf(),
            shot: 0,
        };
        browser.wait_for_driver().await;
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1100,900".into(),
            format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let created = browser.call("POST", "/session", Some(capabilities)).await;
        let id = created["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        browser.session = Some(id);
        browser
    }

    async fn wait_for_driver(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(response) = self.http.get(format!("{}/status", self.base)).send().await {
                if let Ok(body) = response.json::<Value>().await {
                    if body["value"]["ready"] == json!(true) {
                        return;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn session_path(&self, tail: &str) -> String {
        format!(
            "/session/{}{tail}",
            self.session.as_deref().expect("no session")
        )
    }

    /// One WebDriver command; panics with the driver's error message on failure.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let response = request.send().await.expect("chromedriver unreachable");
        let status = response.status();
        let value: Value = response.json().await.expect("chromedriver JSON");
        assert!(status.is_success(), "{method} {path} -> {status}: {value}");
        value["value"].clone()
    }

    /// Runs `script` in the page (WebDriver's execute/sync) and returns its value.
    pub async fn execute(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    async fn session_call(&self, method: &str, tail: &str, body: Option<Value>) -> Value {
        self.call(method, &self.session_path(tail), body).await
    }

    /// Adds a CTAP2 platform authenticator with resident keys and user verification.
    pub async fn add_virtual_authenticator(&self) -> String {
        let options = json!({"protocol": "ctap2", "transport": "internal",
            "hasResidentKey": true, "hasUserVerification": true, "isUserVerified": true});
        let id = self
            .session_call("POST", "/webauthn/authenticator", Some(options))
            .await;
        id.as_str().expect("authenticator id").to_string()
    }

    /// The credentials the virtual authenticator holds.
    pub async fn authenticator_credentials(&self, authenticator: &str) -> Vec<Value> {
        let tail = format!("/webauthn/authenticator/{authenticator}/credentials");
        let value = self.session_call("GET", &tail, None).await;
        value.as_array().cloned().unwrap_or_default()
    }

    /// Removes every credential from the virtual authenticator.
    pub async fn remove_authenticator_credentials(&self, authenticator: &str) {
        let tail = format!("/webauthn/authenticator/{authenticator}/credentials");
        self.session_call("DELETE", &tail, None).await;
    }

    /// Puts a credential (as listed by [`Browser::authenticator_credentials`]) back.
    pub async fn add_authenticator_credential(&self, authenticator: &str, credential: &Value) {
        let tail = format!("/webauthn/authenticator/{authenticator}/credential");
        self.session_call("POST", &tail, Some(credential.clone()))
            .await;
    }

    /// Navigates to `url`.
    pub async fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({"url": url})))
            .await;
    }

    /// The current page URL.
    pub async fn current_url(&self) -> String {
        let value = self.session_call("GET", "/url", None).await;
        value.as_str().unwrap_or_default().to_string()
    }

    /// The page's visible text (empty while the page is being replaced).
    pub async fn body_text(&self) -> String {
        let Some(body) = self.try_find("body").await else {
            return String::new();
        };
        let url = format!(
            "{}{}",
            self.base,
            self.session_path(&format!("/element/{body}/text"))
        );
        let Ok(response) = self.http.get(url).send().await else {
            return String::new();
        };
        if !response.status().is_success() {
            // e.g. a stale element: the page navigated in between.
            return String::new();
        }
        let value: Value = response.json().await.unwrap_or_default();
        value["value"].as_str().unwrap_or_default().to_string()
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let path = self.session_path("/element");
        let url = format!("{}{path}", self.base);
        let body = json!({"using": "css selector", "value": css});
        let response = self.http.post(url).json(&body).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let value: Value = response.json().await.ok()?;
        value["value"][ELEMENT_KEY].as_str().map(str::to_string)
    }

    /// Waits until an element matching `css` exists and returns its id.
    pub async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            if Instant::now() > deadline {
                let url = self.current_url().await;
                let text = self.body_text().await;
                panic!("no element {css} on {url}; the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        let tail = format!("/element/{id}/value");
        self.session_call("POST", &tail, Some(json!({"text": text})))
            .await;
    }

    /// Empties the input matching `css`.
    pub async fn clear(&self, css: &str) {
        let id = self.find(css).await;
        let tail = format!("/element/{id}/clear");
        self.session_call("POST", &tail, Some(json!({}))).await;
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.session_call("POST", &format!("/element/{id}/click"), Some(json!({})))
            .await;
    }

    /// Waits until the current URL satisfies `accept`, returning it.
    pub async fn wait_for_url(&self, what: &str, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url().await;
            if accept(&url) {
                return url;
            }
            if Instant::now() > deadline {
                let text = self.body_text().await;
                panic!("waited for {what}; still at {url}: {text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page text contains `needle`.
    pub async fn wait_for_text(&self, needle: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.body_text().await;
            if text.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "text {needle:?} never appeared; page says: {text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG screenshot named `<n>-<name>.png` in the screenshot folder.
    pub async fn screenshot(&mut self, name: &str) {
        self.shot += 1;
        let value = self.session_call("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .expect("screenshot base64");
        let file = self
            .screenshots
            .join(format!("{:02}-{name}.png", self.shot));
        std::fs::write(file, png).unwrap();
    }
}

/// A blocking `DELETE /session/{id}` so that Drop can end Chromium cleanly.
fn delete_session_blocking(addr: SocketAddr, session: &str) {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            delete_session_blocking(self.driver_addr, &session);
        }
        // chromedriver was started as the leader of its own process group:
        // end that group (chromedriver and any Chromium left behind).
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
