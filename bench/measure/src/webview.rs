//! Passkey round trips seen from the window: the app under WebDriver
//! (tauri-driver + WebKitWebDriver), scripts timing in the page with
//! `performance.now()`.
//!
//! - list, click to render: the UI's own refresh (a window `focus` event,
//!   as when the person comes back from the browser) → its `list_passkeys`
//!   call → the 20 rows in the DOM, laid out, and the next frame;
//! - list, the command alone: `invoke("list_passkeys")` from the page, as
//!   the UI calls it on a refresh (naming the icons it has) and with no icon
//!   known (every icon in the answer), and the size of both answers;
//! - rename: `invoke("rename_passkey")` from the page.

use std::time::Duration;

use std::path::Path;
use std::time::UNIX_EPOCH;

use passkeys_e2e::app::{App, AppConfig};
use passkeys_e2e::wait::{poll, Deadline};
use serde_json::{json, Value};

use crate::stats::summary_json;
use crate::window::READY_FILE_VAR;
use crate::BenchResult;

/// Runs left out of the numbers at the start of each script.
const WARM_UP: usize = 3;
/// Longest a script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

/// The UI's refresh on focus, timed to the DOM, to layout and to the next
/// frame. The rows are in the DOM when the UI records its own measure
/// (`list-passkeys-rendered`, right after `showPasskeys`): the script hooks
/// `performance.measure` to see that moment, since a refresh of an unchanged
/// list changes nothing in the DOM that an observer could see.
const CLICK_TO_RENDER: &str = r#"
const [runs, expected] = arguments;
window.__bench = null;
(async () => {
  const body = document.querySelector('[data-testid="passkeys"]');
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const out = { dom: [], layout: [], frame: [], ui: [] };
  let onRendered = null;
  const measure = performance.measure.bind(performance);
  performance.measure = (name, ...rest) => {
    const entry = measure(name, ...rest);
    if (name === "list-passkeys-rendered" && onRendered !== null) onRendered();
    return entry;
  };
  try {
    for (let i = 0; i < runs; i++) {
      await pause(40);
      const rendered = new Promise((resolve, reject) => {
        onRendered = () => {
          onRendered = null;
          const dom = performance.now();
          void document.body.offsetHeight;
          body.getBoundingClientRect();
          const layout = performance.now();
          const rows = body.querySelectorAll('ul > [data-testid="passkey-row"]').length;
          if (rows !== expected) reject(new Error(`${rows} rows`));
          requestAnimationFrame(() => resolve({ dom, layout, frame: performance.now() }));
        };
      });
      const started = performance.now();
      window.dispatchEvent(new Event("focus"));
      const times = await rendered;
      out.dom.push(times.dom - started);
      out.layout.push(times.layout - started);
      out.frame.push(times.frame - started);
      // The UI's own mark: its `list_passkeys` call → `showPasskeys` returned.
      const own = performance.getEntriesByName("list-passkeys-rendered", "measure").at(-1);
      out.ui.push(own === undefined ? NaN : own.duration);
    }
  } finally {
    performance.measure = measure;
  }
  window.__bench = out;
})().catch((error) => { window.__bench = { error: String(error) }; });
return true;
"#;

/// Where the UI's part of a list refresh goes: its typed `listPasskeys` call
/// (the page's module: it names the icons it has, so after the first call the
/// answers carry none), formatting the dates, building the 20 rows, attaching
/// and laying them out (the last three repeated `REPEAT` times per run, the
/// timer being coarse). The icons of every answer are kept for the rows.
const UI_BREAKDOWN: &str = r#"
const [runs, repeat] = arguments;
window.__bench = null;
(async () => {
  const api = await import("./api.js");
  const rows = await import("./passkeyRow.js");
  const format = await import("./format.js");
  const actions = { rename: async (passkey) => passkey, remove: () => undefined, failed: () => undefined };
  const icons = new Map();
  const noIcons = new Map();
  const out = { apiCall: [], dates: [], buildRows: [], buildRowsWithoutIcons: [], iconBytes: [], attachAndLayout: [] };
  for (let i = 0; i < runs; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    let started = performance.now();
    const answer = await api.listPasskeys();
    out.apiCall.push(performance.now() - started);
    for (const [key, icon] of Object.entries(answer.icons)) icons.set(key, icon);
    const list = answer.passkeys;
    started = performance.now();
    for (let r = 0; r < repeat; r++) for (const passkey of list) format.localeDate(passkey.createdAt);
    out.dates.push((performance.now() - started) / repeat);
    started = performance.now();
    const built = [];
    for (let r = 0; r < repeat; r++) built.push(list.map((passkey) => new rows.PasskeyRow(passkey, actions, icons)));
    out.buildRows.push((performance.now() - started) / repeat);
    started = performance.now();
    for (let r = 0; r < repeat; r++) list.map((passkey) => new rows.PasskeyRow(passkey, actions, noIcons));
    out.buildRowsWithoutIcons.push((performance.now() - started) / repeat);
    out.iconBytes.push(Object.values(answer.icons).reduce((sum, icon) => sum + (icon.light ?? "").length + (icon.dark ?? "").length, 0));
    const host = document.createElement("div");
    host.style.cssText = "position: absolute; visibility: hidden; width: 840px";
    document.body.append(host);
    started = performance.now();
    for (const set of built) {
      const list = document.createElement("ul");
      list.className = "passkeys";
      list.append(...set.map((row) => row.root));
      host.replaceChildren(list);
      void host.offsetHeight;
    }
    out.attachAndLayout.push((performance.now() - started) / repeat);
    host.remove();
  }
  window.__bench = out;
})().catch((error) => { window.__bench = { error: String(error) }; });
return true;
"#;

/// The icon keys of the list and the size of its answer (UTF-8 bytes of
/// its JSON), with no icon known and with every icon known.
const LIST_ANSWER: &str = r#"
const invoke = window.__TAURI__.core.invoke;
return invoke("list_passkeys", {}).then(async (first) => {
  const keys = Object.keys(first.icons);
  const refresh = await invoke("list_passkeys", { knownIcons: keys });
  const bytes = (value) => new TextEncoder().encode(JSON.stringify(value)).length;
  return { keys, ids: first.passkeys.map((p) => p.id), firstBytes: bytes(first), refreshBytes: bytes(refresh) };
});
"#;

/// Repetitions inside one run of [`UI_BREAKDOWN`].
const REPEAT: usize = 10;

/// The page's navigation, resource and user timing entries.
const TIMELINE: &str = r#"
const round = (x) => Math.round(x);
const navigation = performance.getEntriesByType("navigation")[0];
return {
  navigation: navigation === undefined ? null : {
    responseEnd: round(navigation.responseEnd),
    domInteractive: round(navigation.domInteractive),
    domContentLoaded: round(navigation.domContentLoadedEventEnd),
    load: round(navigation.loadEventEnd),
  },
  resources: performance.getEntriesByType("resource").map((r) => ({ name: r.name.split("/").pop(), start: round(r.startTime), end: round(r.responseEnd) })),
  measures: performance.getEntriesByType("measure").map((m) => ({ name: m.name, start: round(m.startTime), duration: round(m.duration) })),
  paint: performance.getEntriesByType("paint").map((p) => ({ name: p.name, start: round(p.startTime) })),
};
"#;

/// A command from the page, `invoke` to its answer.
const INVOKE: &str = r#"
const [runs, command, argsList] = arguments;
window.__bench = null;
(async () => {
  const out = { ms: [] };
  for (let i = 0; i < runs; i++) {
    const args = argsList[i % argsList.length];
    const started = performance.now();
    await window.__TAURI__.core.invoke(command, args);
    out.ms.push(performance.now() - started);
  }
  window.__bench = out;
})().catch((error) => { window.__bench = { error: JSON.stringify(error) }; });
return true;
"#;

/// Launches the app (signed in, `expected` passkeys) and runs the scripts.
///
/// # Errors
/// When the window does not show the list or a script fails.
pub fn measure(config: &AppConfig, expected: usize, runs: usize, dir: &Path) -> BenchResult<Value> {
    let ready_file = dir.join("ready-webdriver");
    let mut config = config.clone();
    config
        .env
        .push((READY_FILE_VAR.to_owned(), ready_file.display().to_string()));
    let app = App::launch(&config);
    app.wait_visible("passkey-row");
    let session = app.session();
    let startup = startup_breakdown(&app, &ready_file);
    let rows = poll(Deadline::after(Duration::from_secs(30)), || {
        let count = session
            .execute(
                "return document.querySelectorAll('[data-testid=\"passkey-row\"]').length;",
                vec![],
            )
            .ok()?
            .as_u64()?;
        (count == expected as u64).then_some(count)
    });
    rows.ok_or_else(|| format!("the window did not show {expected} passkeys"))?;
    // Where the page's first second went (milliseconds since navigation start).
    let timeline = session.execute(TIMELINE, vec![])?;
    let precision = session.execute(
        "const a = performance.now(); let b = a; while (b === a) b = performance.now(); return b - a;",
        vec![],
    )?;

    let render = run_script(
        &app,
        CLICK_TO_RENDER,
        vec![json!(WARM_UP + runs), json!(expected)],
    )?;
    let answer = session.execute(LIST_ANSWER, vec![])?;
    let known_icons = answer.get("keys").cloned().unwrap_or_else(|| json!([]));
    // The command as the UI calls it on a refresh (naming the icons it has),
    // and as on its first call (no icon known: every icon in the answer).
    let list = run_script(
        &app,
        INVOKE,
        vec![
            json!(WARM_UP + runs),
            json!("list_passkeys"),
            json!([{ "knownIcons": known_icons }]),
        ],
    )?;
    let list_all_icons = run_script(
        &app,
        INVOKE,
        vec![json!(WARM_UP + runs), json!("list_passkeys"), json!([{}])],
    )?;
    let id = answer
        .get("ids")
        .and_then(Value::as_array)
        .and_then(|ids| ids.first())
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or("could not read a passkey id in the page")?;
    let rename = run_script(
        &app,
        INVOKE,
        vec![
            json!(WARM_UP + runs),
            json!("rename_passkey"),
            json!([{"id": id, "name": "Work laptop"}, {"id": id, "name": "Passkey 1"}]),
        ],
    )?;
    let ui = run_script(
        &app,
        UI_BREAKDOWN,
        vec![json!(WARM_UP + runs), json!(REPEAT)],
    )?;
    app.quit();
    Ok(json!({
        "timerPrecisionMs": precision,
        "pageTimeline": timeline,
        "startupBreakdown": startup,
        "clickToRender": {
            "dom": summary_json(&tail(&render, "dom")?),
            "layout": summary_json(&tail(&render, "layout")?),
            "frame": summary_json(&tail(&render, "frame")?),
            "uiMeasure": summary_json(&tail(&render, "ui")?),
        },
        "uiBreakdown": {
            "apiCall": summary_json(&tail(&ui, "apiCall")?),
            "dates": summary_json(&tail(&ui, "dates")?),
            "buildRows": summary_json(&tail(&ui, "buildRows")?),
            "buildRowsWithoutIcons": summary_json(&tail(&ui, "buildRowsWithoutIcons")?),
            "iconCharacters": summary_json(&tail(&ui, "iconBytes")?),
            "attachAndLayout": summary_json(&tail(&ui, "attachAndLayout")?),
        },
        "listCommand": summary_json(&tail(&list, "ms")?),
        "listCommandAllIcons": summary_json(&tail(&list_all_icons, "ms")?),
        "listAnswerBytes": {
            "allIcons": answer.get("firstBytes").cloned().unwrap_or(Value::Null),
            "iconsKnown": answer.get("refreshBytes").cloned().unwrap_or(Value::Null),
        },
        "renameCommand": summary_json(&tail(&rename, "ms")?),
    }))
}

/// Starts a script that leaves its result in `window.__bench`, and waits for it.
fn run_script(app: &App, script: &str, args: Vec<Value>) -> BenchResult<Value> {
    let session = app.session();
    session.execute(script, args)?;
    let result = poll(Deadline::after(SCRIPT_TIMEOUT), || {
        std::thread::sleep(Duration::from_millis(100));
        let value = session.execute("return window.__bench;", vec![]).ok()?;
        (!value.is_null()).then_some(value)
    })
    .ok_or("a script in the window did not finish")?;
    if let Some(error) = result.get("error") {
        return Err(format!("a script in the window failed: {error}").into());
    }
    Ok(result)
}

/// The samples under `key`, without the warm-up runs.
fn tail(result: &Value, key: &str) -> BenchResult<Vec<f64>> {
    let samples: Vec<f64> = result
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no `{key}` in the script's result"))?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    Ok(samples.into_iter().skip(WARM_UP).collect())
}

/// One start of another window (the baseline) under WebDriver, split as
/// [`startup_breakdown`] does.
///
/// # Errors
/// When it does not start.
pub fn baseline_breakdown(config: &AppConfig, dir: &Path) -> BenchResult<Value> {
    let ready_file = dir.join("ready-webdriver-baseline");
    let mut config = config.clone();
    config
        .env
        .push((READY_FILE_VAR.to_owned(), ready_file.display().to_string()));
    let window = App::launch(&config);
    let breakdown = startup_breakdown(&window, &ready_file);
    window.quit();
    Ok(breakdown)
}

/// Splits this start (under WebDriver) at the page's navigation start: the
/// process's start is when the ready file was written minus the time it holds.
fn startup_breakdown(app: &App, ready_file: &Path) -> Value {
    let ready = poll(Deadline::after(Duration::from_secs(30)), || {
        let text = std::fs::read_to_string(ready_file).ok()?;
        let written = std::fs::metadata(ready_file).ok()?.modified().ok()?;
        let written_ms = written.duration_since(UNIX_EPOCH).ok()?.as_secs_f64() * 1000.0;
        Some((text.trim().parse::<f64>().ok()?, written_ms))
    });
    let origin = app
        .session()
        .execute(
            "const n = performance.getEntriesByType('navigation')[0]; return [performance.timeOrigin, n ? n.domContentLoadedEventEnd : null];",
            vec![],
        )
        .ok();
    let origin = origin
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|values| Some((values.first()?.as_f64()?, values.get(1)?.as_f64()?)));
    match (ready, origin) {
        (Some((main_to_ready, written_ms)), Some((time_origin, dom_content_loaded))) => {
            let main_to_navigation = time_origin - (written_ms - main_to_ready);
            json!({
                "mainToReady": main_to_ready,
                "mainToNavigation": main_to_navigation,
                "navigationToDomContentLoaded": dom_content_loaded,
                "navigationToReady": main_to_ready - main_to_navigation,
            })
        }
        _ => Value::Null,
    }
}
