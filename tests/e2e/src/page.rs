//! Reading a page through WebDriver, the same way in the window and in the
//! browser: visibility as a person sees it, the rendered text, the URL.

use crate::wait::{wait_for, UI_TIMEOUT};
use crate::webdriver::{Element, Session};

/// Waits for a visible element matching `css` in `session`'s page.
///
/// # Panics
/// When it does not appear in time.
#[track_caller]
pub fn wait_visible(session: &Session, css: &str) -> Element {
    wait_for(&format!("`{css}` to show"), UI_TIMEOUT, || {
        let element = session.find(css).ok()??;
        is_visible(session, &element).then_some(element)
    })
}

/// Whether an element is rendered (has a box, not hidden by CSS).
pub fn is_visible(session: &Session, element: &Element) -> bool {
    let script = "const e = arguments[0]; const s = getComputedStyle(e); \
                  return !!(e.getClientRects().length) && s.visibility !== 'hidden' && s.display !== 'none' \
                  && !e.closest('[hidden]');";
    session
        .execute(script, vec![element.to_json()])
        .ok()
        .and_then(|value| value.as_bool())
        .unwrap_or(false)
}

/// The rendered text of the page.
pub fn page_text(session: &Session) -> String {
    session
        .execute(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Waits until the browser's URL starts with `prefix` and the page has
/// loaded, returning the URL.
///
/// # Panics
/// When it does not get there in time.
#[track_caller]
pub fn wait_for_url(session: &Session, prefix: &str) -> String {
    wait_for(
        &format!("the browser to reach {prefix}…"),
        UI_TIMEOUT,
        || {
            let url = session.current_url().ok()?;
            let ready = session
                .execute("return document.readyState;", vec![])
                .ok()?;
            (url.starts_with(prefix) && ready == "complete").then_some(url)
        },
    )
}
