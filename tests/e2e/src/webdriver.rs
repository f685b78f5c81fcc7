//! A small W3C WebDriver client over plain JSON, shared by the app's side
//! (tauri-driver in front of WebKitWebDriver) and the browser's side
//! (chromedriver).

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

/// The key under which W3C WebDriver puts an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What went wrong talking to a WebDriver server.
#[derive(Debug)]
pub enum WebDriverError {
    /// The HTTP request itself failed (server gone, connection refused…).
    Transport(reqwest::Error),
    /// The server answered with a WebDriver error.
    Protocol {
        /// The W3C error code, e.g. `no such element`.
        error: String,
        /// The server's message.
        message: String,
    },
    /// The answer did not have the expected shape.
    Unexpected(String),
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(error) => write!(f, "WebDriver transport error: {error}"),
            Self::Protocol { error, message } => write!(f, "WebDriver error `{error}`: {message}"),
            Self::Unexpected(what) => write!(f, "unexpected WebDriver answer: {what}"),
        }
    }
}

impl std::error::Error for WebDriverError {}

impl From<reqwest::Error> for WebDriverError {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error)
    }
}

/// A `Result` of a WebDriver call.
pub type WdResult<T> = std::result::Result<T, WebDriverError>;

/// One WebDriver session.
#[derive(Debug)]
pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    id: String,
    capabilities: Value,
}

/// A reference to an element of the page, valid in its session.
#[derive(Debug, Clone)]
pub struct Element {
    id: String,
}

impl Element {
    /// The element as a script argument.
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

impl Session {
    /// Creates a session on the WebDriver server at `base` (e.g.
    /// `http://127.0.0.1:4444`) with the given capabilities
    /// (`{"capabilities": {...}}`).
    ///
    /// # Errors
    /// When the server refuses or cannot be reached.
    pub fn create(base: &str, capabilities: Value) -> WdResult<Session> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        let base = base.trim_end_matches('/').to_owned();
        let value = send(
            &http,
            reqwest::Method::POST,
            &format!("{base}/session"),
            Some(capabilities),
        )?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| WebDriverError::Unexpected(format!("new session: {value}")))?
            .to_owned();
        Ok(Session {
            http,
            base,
            id,
            capabilities: value["capabilities"].clone(),
        })
    }

    /// The capabilities the server returned for this session.
    pub fn capabilities(&self) -> &Value {
        &self.capabilities
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.id)
    }

    fn get(&self, path: &str) -> WdResult<Value> {
        send(&self.http, reqwest::Method::GET, &self.url(path), None)
    }

    fn post(&self, path: &str, body: Value) -> WdResult<Value> {
        send(
            &self.http,
            reqwest::Method::POST,
            &self.url(path),
            Some(body),
        )
    }

    /// Navigates the current top-level browsing context to `url`.
    ///
    /// # Errors
    /// When the server refuses.
    pub fn navigate(&self, url: &str) -> WdResult<()> {
        self.post("/url", json!({ "url": url })).map(drop)
    }

    /// The URL of the current page.
    ///
    /// # Errors
    /// When the server refuses.
    pub fn current_url(&self) -> WdResult<String> {
        string(self.get("/url")?)
    }

    /// The first element matching a CSS selector, if any.
    ///
    /// # Errors
    /// When the server refuses for another reason than "no such element".
    pub fn find(&self, css: &str) -> WdResult<Option<Element>> {
        match self.post("/element", json!({ "using": "css selector", "value": css })) {
            Ok(value) => element(&value).map(Some),
            Err(WebDriverError::Protocol { error, .. }) if error == "no such element" => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every element matching a CSS selector.
    ///
    /// # Errors
    /// When the server refuses.
    pub fn find_all(&self, css: &str) -> WdResult<Vec<Element>> {
        let value = self.post(
            "/elements",
            json!({ "using": "css selector", "value": css }),
        )?;
        value
            .as_array()
            .ok_or_else(|| WebDriverError::Unexpected(format!("elements: {value}")))?
            .iter()
            .map(element)
            .collect()
    }

    /// Clicks an element (scrolled into view, as a user would).
    ///
    /// # Errors
    /// When the element is gone or not interactable.
    pub fn click(&self, element: &Element) -> WdResult<()> {
        self.post(&format!("/element/{}/click", element.id), json!({}))
            .map(drop)
    }

    /// Clears an editable element.
    ///
    /// # Errors
    /// When the element is gone or not editable.
    pub fn clear(&self, element: &Element) -> WdResult<()> {
        self.post(&format!("/element/{}/clear", element.id), json!({}))
            .map(drop)
    }

    /// The element that has the keyboard focus.
    ///
    /// # Errors
    /// When the server refuses (no element is focused).
    pub fn active_element(&self) -> WdResult<Element> {
        let value = self.get("/element/active")?;
        let id = value
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .ok_or_else(|| WebDriverError::Unexpected(format!("no element in {value}")))?;
        Ok(Element { id: id.to_owned() })
    }

    /// Types `text` into an element (`\u{E007}` is Enter, `\u{E00C}` Escape).
    ///
    /// # Errors
    /// When the element is gone or not interactable.
    pub fn send_keys(&self, element: &Element, text: &str) -> WdResult<()> {
        self.post(
            &format!("/element/{}/value", element.id),
            json!({ "text": text }),
        )
        .map(drop)
    }

    /// The rendered text of an element.
    ///
    /// # Errors
    /// When the element is gone.
    pub fn text(&self, element: &Element) -> WdResult<String> {
        string(self.get(&format!("/element/{}/text", element.id))?)
    }

    /// A DOM property of an element (e.g. `value`, `disabled`).
    ///
    /// # Errors
    /// When the element is gone.
    pub fn property(&self, element: &Element, name: &str) -> WdResult<Value> {
        self.get(&format!("/element/{}/property/{name}", element.id))
    }

    /// Runs a synchronous script in the page and returns its result.
    ///
    /// # Errors
    /// When the script throws or the server refuses.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
    }

    /// Runs an asynchronous script in the page: it gets a callback as its
    /// last argument and its result is what it passes to that callback.
    ///
    /// # Errors
    /// When the script throws, times out or the server refuses.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/async", json!({ "script": script, "args": args }))
    }

    /// A PNG screenshot of the current page (the window's viewport).
    ///
    /// # Errors
    /// When the server refuses or sends something that is not base64.
    pub fn screenshot(&self) -> WdResult<Vec<u8>> {
        let encoded = string(self.get("/screenshot")?)?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .map_err(|error| WebDriverError::Unexpected(format!("screenshot: {error}")))
    }

    /// Adds a WebAuthn virtual authenticator (Chromium) and returns its id.
    ///
    /// # Errors
    /// When the server does not support virtual authenticators.
    pub fn add_virtual_authenticator(&self, options: Value) -> WdResult<String> {
        string(self.post("/webauthn/authenticator", options)?)
    }

    /// The credentials a virtual authenticator holds.
    ///
    /// # Errors
    /// When the authenticator does not exist.
    pub fn virtual_credentials(&self, authenticator_id: &str) -> WdResult<Vec<Value>> {
        let value = self.get(&format!(
            "/webauthn/authenticator/{authenticator_id}/credentials"
        ))?;
        value
            .as_array()
            .cloned()
            .ok_or_else(|| WebDriverError::Unexpected(format!("credentials: {value}")))
    }

    /// Sets whether a virtual authenticator's user verification succeeds.
    ///
    /// # Errors
    /// When the authenticator does not exist.
    pub fn set_user_verified(&self, authenticator_id: &str, verified: bool) -> WdResult<()> {
        self.post(
            &format!("/webauthn/authenticator/{authenticator_id}/uv"),
            json!({ "isUserVerified": verified }),
        )
        .map(drop)
    }

    /// Runs a Chrome DevTools Protocol command (chromedriver).
    ///
    /// # Errors
    /// When the server refuses.
    pub fn cdp(&self, command: &str, params: Value) -> WdResult<Value> {
        self.post(
            "/goog/cdp/execute",
            json!({ "cmd": command, "params": params }),
        )
    }

    /// The entries of a legacy log (`performance`, `browser`) collected
    /// since the last call (chromedriver).
    ///
    /// # Errors
    /// When the server does not have that log.
    pub fn log(&self, kind: &str) -> WdResult<Vec<Value>> {
        let value = self.post("/se/log", json!({ "type": kind }))?;
        value
            .as_array()
            .cloned()
            .ok_or_else(|| WebDriverError::Unexpected(format!("log: {value}")))
    }

    /// Ends the session (for the app this quits it).
    ///
    /// # Errors
    /// When the server cannot be reached.
    pub fn delete(&self) -> WdResult<()> {
        send(&self.http, reqwest::Method::DELETE, &self.url(""), None).map(drop)
    }
}

fn send(
    http: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> WdResult<Value> {
    let request = http.request(method, url);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send()?;
    let status = response.status();
    let mut value: Value = response.json()?;
    let value = value
        .get_mut("value")
        .map(Value::take)
        .unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    Err(WebDriverError::Protocol {
        error: value["error"]
            .as_str()
            .unwrap_or("unknown error")
            .to_owned(),
        message: value["message"].as_str().unwrap_or_default().to_owned(),
    })
}

fn string(value: Value) -> WdResult<String> {
    match value {
        Value::String(text) => Ok(text),
        other => Err(WebDriverError::Unexpected(format!(
            "expected a string, got {other}"
        ))),
    }
}

fn element(value: &Value) -> WdResult<Element> {
    // The W3C key, with the first value of the object as the fallback for
    // drivers that only send their legacy key.
    value
        .get(ELEMENT_KEY)
        .or_else(|| value.as_object().and_then(|object| object.values().next()))
        .and_then(Value::as_str)
        .map(|id| Element { id: id.to_owned() })
        .ok_or_else(|| WebDriverError::Unexpected(format!("element: {value}")))
}
