//! Sign-in by email: a 6-digit code and a magic link (followed in
//! [`super::magic_link`]), sent to the dev mailbox. Sign-up and sign-in are
//! the same flow: a new address creates the user.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use rand::Rng as _;
use serde::Deserialize;

use super::forms::{non_empty, safe_next, secret_value, valid_email, Form, PageError, SecretField};
use super::login::{device_of, pending_request, sign_in};
use super::mailbox::MailMessage;
use super::registration::PeerAddr;
use super::store::{self, CodeCheck};
use super::{csrf, mailbox, pages};
use crate::db;
use crate::error::Error;
use crate::secret::{random_token, sha256_hex};
use crate::state::AppState;
use crate::throttle::CODES_PER_EMAIL;

/// Lifetime of a code and its magic link.
const CHALLENGE_TTL_SECS: i64 = 600;

/// Form of `POST /ui/login/email`.
#[derive(Debug, Deserialize)]
pub struct EmailForm {
    csrf: Option<SecretField>,
    email: Option<String>,
    auth_request: Option<String>,
    next: Option<String>,
    mode: Option<String>,
}

/// `POST /ui/login/email`: sends a code and a link, then shows the code page.
/// At most [`CODES_PER_EMAIL`] codes per address, `codes_per_browser` per
/// browser and `codes_per_client_address` (both configuration) per client address in
/// [`CODE_WINDOW`](crate::throttle::CODE_WINDOW): more
/// is 429 with `Retry-After` and the sign-in page saying when to try again.
pub async fn send_code(
    State(state): State<AppState>,
    jar: CookieJar,
    PeerAddr(peer): PeerAddr,
    Form(form): Form<EmailForm>,
) -> Result<Response, PageError> {
    let auth_request = non_empty(&form.auth_request);
    csrf::verify(
        &jar,
        &csrf::login_flow(auth_request),
        secret_value(&form.csrf),
    )?;
    let next = safe_next(form.next.as_deref())?;
    if let Some(id) = auth_request {
        pending_request(&state, id).await?;
    }
    let login_page_again = |jar: CookieJar, status: StatusCode, message: &str| {
        let secure = state.base_url.scheme() == "https";
        let (jar, token) = csrf::issue(jar, &csrf::login_flow(auth_request), secure);
        let body = pages::login_page(&pages::LoginPage {
            auth_request,
            next: next.as_deref(),
            signup: form.mode.as_deref() == Some("signup"),
            email: form.email.as_deref().unwrap_or(""),
            csrf: &token,
            passkeys: state.passkeys_enabled(),
            error: Some(message),
        });
        (jar, pages::html(status, body)).into_response()
    };
    let email = match valid_email(form.email.as_deref().unwrap_or("")) {
        Ok(email) => email,
        Err(error) => {
            return Ok(login_page_again(
                jar,
                StatusCode::BAD_REQUEST,
                &error.to_string(),
            ))
        }
    };
    let mut keys = vec![(format!("email:{}", email.to_lowercase()), CODES_PER_EMAIL)];
    // The form's CSRF check above needs the browser's CSRF cookie: it names
    // the browser (kept as a digest, the cookie itself is not stored).
    if let Some(browser) = jar.get(csrf::CSRF_COOKIE) {
        keys.push((
            format!("browser:{}", sha256_hex(browser.value())),
            state.config.codes_per_browser,
        ));
    }
    if let Some(peer) = peer {
        keys.push((
            format!("addr:{}", peer.ip()),
            state.config.codes_per_client_address,
        ));
    }
    if let Err(wait) = state.code_throttle.hit(&keys) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        let message =
            format!("Too many codes asked for this address: try again in {minutes} {unit}.");
        let mut response = login_page_again(jar, StatusCode::TOO_MANY_REQUESTS, &message);
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return Ok(response);
    }

    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
    let token = random_token(32);
    let (to, stored_code, stored_token) = (email.clone(), code.clone(), token.clone());
    let request = auth_request.map(str::to_owned);
    let challenge = state
        .db
        .call(move |c| {
            store::create_email_challenge(
                c,
                &to,
                &stored_code,
                &stored_token,
                request.as_deref(),
                CHALLENGE_TTL_SECS,
            )
        })
        .await?;

    let mut link = state.url(&format!("/ui/magic?token={}", pages::urlencode(&token)));
    if let Some(next) = &next {
        link.push_str(&format!("&next={}", pages::urlencode(next)));
    }
    let body = format!(
        "Your verification code is {code}.\n\nOr open this link to sign in:\n{link}\n\n\
         The code and the link expire in 10 minutes and work once. \
         If you did not ask for this, ignore this email."
    );
    let message = MailMessage {
        to: email,
        subject: format!("Your verification code: {code}"),
        body,
        code: Some(code),
        link: Some(link),
        created_at: String::new(),
    };
    mailbox::deliver(&state, message).await?;

    let mut to = format!(
        "/ui/login/verify?challenge={}",
        pages::urlencode(&challenge.id)
    );
    if let Some(next) = &next {
        to.push_str(&format!("&next={}", pages::urlencode(next)));
    }
    Ok(Redirect::to(&to).into_response())
}

/// Query of `GET /ui/login/verify`.
#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    challenge: Option<String>,
    next: Option<String>,
}

/// `GET /ui/login/verify`: the code-entry page.
pub async fn code_page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<VerifyQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(query.next.as_deref())?;
    let id = non_empty(&query.challenge)
        .ok_or_else(|| Error::InvalidRequest("The link is missing its code request.".into()))?;
    let challenge = open_challenge(&state, id).await?;
    Ok(render_code_page(
        &state,
        jar,
        &challenge,
        next.as_deref(),
        StatusCode::OK,
        None,
    ))
}

async fn open_challenge(state: &AppState, id: &str) -> Result<store::EmailChallenge, Error> {
    let id = id.to_owned();
    state
        .db
        .call(move |c| store::email_challenge_by_id(c, &id))
        .await?
        .filter(store::EmailChallenge::is_open)
        .ok_or_else(|| {
            Error::InvalidRequest(
                "This code has expired or was already used. Request a new one.".into(),
            )
        })
}

fn render_code_page(
    state: &AppState,
    jar: CookieJar,
    challenge: &store::EmailChallenge,
    next: Option<&str>,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let secure = state.base_url.scheme() == "https";
    let (jar, token) = csrf::issue(jar, &csrf::challenge_flow(&challenge.id), secure);
    let body = pages::code_page(&pages::CodePage {
        challenge: &challenge.id,
        email: &challenge.email,
        next,
        auth_request: challenge.auth_request_id.as_deref(),
        csrf: &token,
        error,
    });
    (jar, pages::html(status, body)).into_response()
}

/// Form of `POST /ui/login/verify`.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    csrf: Option<SecretField>,
    challenge: Option<String>,
    code: Option<SecretField>,
    next: Option<String>,
}

/// `POST /ui/login/verify`: checks the code (5 wrong attempts lock it).
pub async fn verify_code(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    PeerAddr(peer): PeerAddr,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let id = non_empty(&form.challenge)
        .ok_or_else(|| Error::InvalidRequest("The form is missing its code request.".into()))?
        .to_owned();
    csrf::verify(&jar, &csrf::challenge_flow(&id), secret_value(&form.csrf))?;
    let next = safe_next(form.next.as_deref())?;
    let code = secret_value(&form.code).unwrap_or("").trim().to_owned();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        let challenge = open_challenge(&state, &id).await?;
        let message = "Enter the 6-digit code from the email.";
        return Ok(render_code_page(
            &state,
            jar,
            &challenge,
            next.as_deref(),
            StatusCode::BAD_REQUEST,
            Some(message),
        ));
    }
    let check_id = id.clone();
    let outcome = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let outcome = store::check_email_code(&tx, &check_id, &code)?;
            let user = match &outcome {
                CodeCheck::Accepted { email, .. } => {
                    Some(db::find_or_create_user_by_email(&tx, email)?)
                }
                _ => None,
            };
            tx.commit()?;
            Ok((outcome, user))
        })
        .await?;
    match outcome {
        (
            CodeCheck::Accepted {
                auth_request_id, ..
            },
            Some(user),
        ) => {
            let (jar, target) = sign_in(
                &state,
                jar,
                &user.id,
                "conn_email",
                device_of(&headers, peer),
                auth_request_id.as_deref(),
                next.as_deref(),
            )
            .await?;
            Ok((jar, Redirect::to(&target)).into_response())
        }
        (CodeCheck::Wrong { remaining }, _) if remaining > 0 => {
            let challenge = open_challenge(&state, &id).await?;
            let message = format!(
                "That code is not right. {remaining} attempt{} left.",
                if remaining == 1 { "" } else { "s" }
            );
            Ok(render_code_page(
                &state,
                jar,
                &challenge,
                next.as_deref(),
                StatusCode::BAD_REQUEST,
                Some(&message),
            ))
        }
        (CodeCheck::Wrong { .. } | CodeCheck::Locked, _) => Err(Error::InvalidRequest(
            "Too many wrong codes. Go back and request a new code.".into(),
        )
        .into()),
        _ => Err(Error::InvalidRequest(
            "This code has expired or was already used. Request a new one.".into(),
        )
        .into()),
    }
}
