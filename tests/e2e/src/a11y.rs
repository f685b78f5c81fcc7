//! Accessibility of the real window: axe-core (from the UI's npm
//! dependencies) injected into the page through WebDriver and run with the
//! WCAG 2.0 and 2.1 A and AA rules. Every view a scenario reaches is checked
//! where it is shown; a view with any violation fails the scenario, naming
//! each rule and the elements it found.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::app::{workspace_dir, App};

/// The rule tags run: WCAG 2.1 AA (which includes 2.0 A and AA, and 2.1 A).
pub const WCAG_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// Where axe-core's browser bundle is (installed with the UI's dev dependencies).
fn axe_source_path() -> PathBuf {
    workspace_dir().join("ui/node_modules/axe-core/axe.min.js")
}

fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = axe_source_path();
        std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "axe-core is missing at {} ({error}): run `npm --prefix ui ci`",
                path.display()
            )
        })
    })
}

/// The violations axe-core finds in the window's page as it is now: one
/// `{id, impact, help, targets}` per rule broken.
///
/// # Panics
/// When the script cannot be injected or run.
pub fn violations(app: &App) -> Vec<Value> {
    let session = app.session();
    // Injected once per page: `window.axe` survives until the page reloads.
    let loaded = session
        .execute("return typeof window.axe === 'object';", Vec::new())
        .expect("ask whether axe-core is loaded");
    if loaded != Value::Bool(true) {
        let inject = format!("{}\nreturn typeof window.axe === 'object';", axe_source());
        let injected = session
            .execute(&inject, Vec::new())
            .expect("inject axe-core into the window");
        assert_eq!(injected, Value::Bool(true), "axe-core did not load");
    }
    let run = "const done = arguments[arguments.length - 1];\
        const tags = arguments[0];\
        window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })\
          .then((result) => done(JSON.stringify(result.violations.map((v) => ({\
            id: v.id, impact: v.impact, help: v.help,\
            targets: v.nodes.map((n) => n.target.join(' ')) })))))\
          .catch((error) => done('error: ' + error));";
    let answer = session
        .execute_async(run, vec![serde_json::json!(WCAG_TAGS)])
        .expect("run axe-core");
    let text = answer.as_str().unwrap_or_default();
    assert!(!text.starts_with("error: "), "axe-core failed: {text}");
    serde_json::from_str(text).unwrap_or_else(|error| panic!("axe-core's answer {text}: {error}"))
}

/// Checks the view the window shows now (`view` names it in the failure):
/// no WCAG 2.1 A or AA violation.
///
/// # Panics
/// With every violation found.
#[track_caller]
pub fn assert_accessible(app: &App, view: &str) {
    let found = violations(app);
    assert!(
        found.is_empty(),
        "{view}: {} accessibility violation(s) (axe-core, WCAG 2.1 AA):\n{}",
        found.len(),
        found
            .iter()
            .map(|v| format!(
                "- {} ({}): {} — {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                v["targets"]
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("accessibility: {view}: 0 violations (axe-core, WCAG 2.1 AA)");
}

/// What identifies a focusable element in the page, for the tab-order check:
/// its `data-testid`, else its id, else its tag and text.
const DESCRIBE: &str = "const d = (e) => e.dataset?.testid || e.id || (e.tagName.toLowerCase() + ':' + (e.textContent || '').trim().slice(0, 30));";

/// The page's visible, enabled, focusable elements in document order (no
/// positive `tabindex` is allowed: it would reorder them).
const FOCUSABLE: &str = "return [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].filter((e) => !e.disabled && e.tabIndex >= 0 && e.offsetParent !== null && !e.closest('dialog:not([open]), [hidden], [inert]')).map((e) => [d(e), e.tabIndex]);";

/// Walks the page with Tab from its first focusable element and asserts that
/// the keyboard reaches every visible control, in the order the page shows
/// them (document order: no positive `tabindex`), and that no control traps
/// the focus. Returns the order walked.
///
/// # Panics
/// When the order differs, a control is not reached, or the page cannot be read.
#[track_caller]
pub fn assert_tab_order_follows_the_page(app: &App) -> Vec<String> {
    let session = app.session();
    let listed = session
        .execute(&format!("{DESCRIBE} {FOCUSABLE}"), Vec::new())
        .expect("list the focusable elements");
    let listed: Vec<(String, i64)> = serde_json::from_value(listed).expect("pairs");
    assert!(
        listed.iter().all(|(_, index)| *index == 0),
        "a positive tabindex reorders the keyboard: {listed:?}"
    );
    let expected: Vec<String> = listed.into_iter().map(|(name, _)| name).collect();
    assert!(!expected.is_empty(), "nothing on the page takes the focus");
    session
        .execute(
            &format!("{DESCRIBE} const all = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].filter((e) => d(e) === arguments[0]); all[0].focus(); return d(document.activeElement);"),
            vec![Value::String(expected[0].clone())],
        )
        .expect("focus the first control");
    let mut walked = vec![expected[0].clone()];
    for _ in 1..expected.len() {
        let active = session.active_element().expect("the focused element");
        session.send_keys(&active, "\u{E004}").expect("press Tab");
        let now = session
            .execute(
                &format!("{DESCRIBE} return d(document.activeElement);"),
                Vec::new(),
            )
            .expect("read the focus");
        walked.push(now.as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(
        walked, expected,
        "Tab must visit every visible control in the page's order"
    );
    walked
}
