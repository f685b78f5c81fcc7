//! The hosted pages: sign-in (email code, magic link, "Continue with
//! Passkey"), `/ui/profile/passkeys`, and the development mailbox.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /ui/login?auth_request=&next=&mode=signup` | sign-in / sign-up page |
//! | `POST /ui/login/email` | sends a code and magic link to the dev mailbox |
//! | `GET, POST /ui/login/verify` | code entry (5 wrong codes lock it) |
//! | `GET /ui/magic?token=` | magic link (single use); a native client's request asks "Continue as …" first |
//! | `POST /ui/magic` | "Continue as …" of a magic link |
//! | `POST /ui/login/continue` | "Continue as …" with a live session (`prompt=select_account`, native clients) |
//! | `POST /ui/login/passkey/start`, `…/finish` | discoverable passkey sign-in (JSON) |
//! | `GET /ui/profile/passkeys` | the user's passkeys |
//! | `POST /ui/profile/passkeys/register/start`, `…/finish` | add a passkey (JSON) |
//! | `PATCH, DELETE /ui/profile/passkeys/{id}` | rename, remove (JSON) |
//! | `GET /ui/assets/{file}` | CSS and JS (no inline script: strict CSP) |
//! | `GET, POST /oidc/logout` | (pages of the OIDC route) "Sign out?" and "You are signed out" |
//! | `GET /_dev/mailbox/{key}?email=` | messages sent to an address, newest first; 404 unless `key` is this run's ([`crate::dev_mailbox`]) |
//!
//! Pages use the `skemu_session_<port>` cookie; every form and JSON call carries a
//! CSRF token bound to its flow (see [`csrf`]).

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;

use crate::dev_mailbox::MAILBOX_PATH;
use crate::state::AppState;

mod ceremony;
mod continue_page;
pub mod csrf;
mod email;
mod forms;
mod login;
mod magic_link;
mod mailbox;
pub use mailbox::MailMessage;
pub(crate) mod pages;
mod passkey_login;
mod profile;
mod profile_page;
mod registration;
mod sign_out_pages;
mod store;

/// The hosted routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/login", get(login::page))
        .route("/ui/login/email", post(email::send_code))
        .route(
            "/ui/login/verify",
            get(email::code_page).post(email::verify_code),
        )
        .route("/ui/login/continue", post(login::continue_as))
        .route("/ui/login/passkey/start", post(passkey_login::start))
        .route("/ui/login/passkey/finish", post(passkey_login::finish))
        .route(
            "/ui/magic",
            get(magic_link::open).post(magic_link::continue_with),
        )
        .route(profile::PROFILE_PATH, get(profile::page))
        .route(
            "/ui/profile/passkeys/register/start",
            post(registration::start),
        )
        .route(
            "/ui/profile/passkeys/register/finish",
            post(registration::finish),
        )
        .route(
            "/ui/profile/passkeys/{id}",
            patch(profile::rename).delete(profile::remove),
        )
        .route("/ui/assets/{file}", get(asset))
        .route(MAILBOX_PATH, get(mailbox::without_key))
        .route(&format!("{MAILBOX_PATH}/{{key}}"), get(mailbox::list))
}

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "hosted.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/hosted.css"),
    ),
    (
        "webauthn.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/webauthn.js"),
    ),
    (
        "login.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/login.js"),
    ),
    (
        "profile.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/profile.js"),
    ),
];

/// `GET /ui/assets/{file}`.
async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut response = (StatusCode::OK, *body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
