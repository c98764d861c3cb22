//! The admin dashboard at `/dashboard/admin/backup` and the sign-in page:
//! server-rendered (askama, checked at compile time) from the same service calls
//! the API makes, with one small script of our own (`assets/app.js`) that talks
//! to the API. Assets are compiled into the binary; there is no build step.
//!
//! The page only ever reads on load; changes happen through the API, on a
//! person's click (see the script's header).

mod cards;
mod lists;
mod notifications;
mod pictures;
mod proof;
mod retention;
mod storage;
mod words;

use super::AppState;
use super::error::ApiQuery;
use super::i18n::{self, Arg, Lang};
use crate::auth::{Principal, Role};
use crate::domain::{RunKind, RunState};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cards::JobCard;
use jiff::Timestamp;
use lists::{BackupRow, History};
use notifications::{DeliveryRow, FailingChannel};
use retention::{RuleField, TrashRow};
use serde::Deserialize;
use std::collections::HashMap;

const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");

pub const DASHBOARD: &str = "/dashboard/admin/backup";

pub async fn app_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_JS,
    )
}

pub async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_CSS,
    )
}

pub async fn root(State(state): State<AppState>) -> Redirect {
    Redirect::to(&state.config.base_path.join(DASHBOARD))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Lang,
    /// The `--base-path` prefix of every link (empty at the root).
    base: String,
    langs: [Lang; 2],
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    lang: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<NextQuery>,
) -> Response {
    let base = &state.config.base_path;
    let (lang, set_cookie) = language(base, &headers, q.lang.as_deref());
    // Only paths on this origin, and under the prefix when there is one: an
    // open redirect would send people elsewhere after sign-in (under a base
    // path, into the app Sauve is mounted in).
    let under_prefix = format!("{base}/");
    let next = q
        .next
        .as_deref()
        .and_then(super::origin::safe_next)
        .filter(|n| base.is_root() || n.starts_with(&under_prefix))
        .map_or_else(|| base.join(DASHBOARD), str::to_string);
    let mut response = render(LoginPage {
        t: lang,
        base: base.to_string(),
        langs: Lang::ALL,
        next,
    });
    with_cookie(&mut response, set_cookie);
    response
}

fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: Lang,
    /// The `--base-path` prefix of every link (empty at the root).
    base: String,
    /// Each language and the link that shows this same page in it.
    langs: Vec<(Lang, String)>,
    /// "Signed in as ada (admin)".
    who: String,
    can_write: bool,
    csrf: String,
    jobs: Vec<JobCard>,
    size_caption: String,
    duration_caption: String,
    storage: Vec<storage::DestinationRow>,
    backups: Vec<BackupRow>,
    trash: Vec<TrashRow>,
    more_trash: bool,
    more_trash_words: String,
    rules: Vec<RuleField>,
    zones: &'static [String],
    /// (value, label) of each weekday box.
    weekdays: Vec<(String, String)>,
    /// (value, label) of each state and kind in the history's filters.
    states: Vec<(&'static str, String)>,
    kinds: Vec<(&'static str, String)>,
    history: History,
    version: &'static str,
    deliveries: Vec<DeliveryRow>,
    failing_channels: Vec<FailingChannel>,
}

#[derive(Deserialize)]
pub struct DashboardQuery {
    job: Option<String>,
    state: Option<String>,
    kind: Option<String>,
    limit: Option<i64>,
    /// The id of the last run of the previous page.
    cursor: Option<String>,
    /// A click on the language switch: kept in a cookie from then on.
    lang: Option<String>,
}

/// The page's language, and the cookie that keeps a choice made on the
/// switch (`?lang=`): a preference, not a change of anything stored, so a
/// plain GET may set it.
fn language(
    base: &super::BasePath,
    headers: &HeaderMap,
    asked: Option<&str>,
) -> (Lang, Option<String>) {
    let cookie = super::auth::cookie(headers, i18n::COOKIE);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = Lang::negotiate(asked, cookie, accept);
    let set = asked.and_then(Lang::parse).map(|l| {
        format!(
            "{}={}; Path={}; Max-Age=31536000; SameSite=Lax",
            i18n::COOKIE,
            l.code(),
            base.cookie_path(),
        )
    });
    (lang, set)
}

/// The page itself: for a signed-in person only (sessions, not tokens).
pub async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> Response {
    let session = super::auth::session_of(&state, &headers)
        .await
        .ok()
        .flatten();
    let base = &state.config.base_path;
    let Some((Principal::User { name, role }, csrf)) = session else {
        // A language asked for on the way in is the sign-in page's too.
        let lang = q
            .lang
            .as_deref()
            .and_then(Lang::parse)
            .map(|l| format!("&lang={}", l.code()))
            .unwrap_or_default();
        let (login, next) = (base.join("/login"), base.join(DASHBOARD));
        return Redirect::to(&format!("{login}?next={next}{lang}")).into_response();
    };
    let (lang, set_cookie) = language(base, &headers, q.lang.as_deref());
    let mut response = match page(&state, lang, name, role, csrf, q).await {
        Ok(p) => render(p),
        Err(e) => {
            tracing::error!(error = %e, "dashboard failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the dashboard could not be built: {e}"),
            )
                .into_response()
        }
    };
    with_cookie(&mut response, set_cookie);
    response
}

/// The language switch's links: this page (its filters and cursor) in each
/// language.
fn switch_links(q: &DashboardQuery) -> Vec<(Lang, String)> {
    Lang::ALL
        .into_iter()
        .map(|l| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("job", &q.job),
                ("state", &q.state),
                ("kind", &q.kind),
                ("cursor", &q.cursor),
            ] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    query.append_pair(k, v);
                }
            }
            if let Some(limit) = q.limit {
                query.append_pair("limit", &limit.to_string());
            }
            query.append_pair("lang", l.code());
            (l, format!("?{}", query.finish()))
        })
        .collect()
}

fn with_cookie(response: &mut Response, cookie: Option<String>) {
    if let Some(v) = cookie.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

async fn page(
    state: &AppState,
    lang: Lang,
    user: String,
    role: Role,
    csrf: String,
    q: DashboardQuery,
) -> Result<DashboardPage, crate::service::ServiceError> {
    let langs = switch_links(&q);
    let sauve = &state.sauve;
    let now = Timestamp::now();
    let today = now.as_millisecond().div_euclid(86_400_000);
    let trends = sauve
        .trends(
            today - pictures::STRIP_DAYS + 1,
            today - pictures::GROWTH_DAYS + 1,
        )
        .await?;
    let health = sauve.health().await?;
    let mut glances: HashMap<String, crate::store::JobGlance> = sauve
        .glance()
        .await?
        .into_iter()
        .map(|g| (g.job.clone(), g))
        .collect();
    let inputs = cards::Inputs {
        lang,
        sauve,
        days: pictures::by_job(&trends.days, |d| &d.job),
        recent: pictures::by_job(&trends.recent, |r| &r.job),
        day_labels: pictures::day_labels(lang, today),
        today,
        now,
    };
    let mut jobs = Vec::new();
    for stored in sauve.jobs().await? {
        let glance = glances.remove(&stored.name).unwrap_or_default();
        let h = health.get(&stored.id);
        jobs.push(cards::card(&inputs, stored, glance, h).await?);
    }
    let notes = notifications::rows(lang, sauve).await?;
    let backups = lists::backup_rows(lang, sauve).await?;
    let (trash, more_trash) = lists::trash_rows(lang, sauve, now).await?;
    let history = lists::history(lang, sauve, q).await?;
    let storage = storage::rows(
        lang,
        &trends,
        &jobs.iter().map(|j| j.name.as_str()).collect(),
        today,
    );
    Ok(DashboardPage {
        t: lang,
        base: state.config.base_path.to_string(),
        langs,
        who: lang.ta(
            "signed-in-as",
            &[
                ("user", Arg::S(&user)),
                ("role", Arg::S(&lang.t(&format!("role-{}", role.as_str())))),
            ],
        ),
        can_write: role == Role::Admin,
        csrf,
        jobs,
        size_caption: lang.t("spark-size-caption"),
        duration_caption: lang.t("spark-duration-caption"),
        storage,
        backups,
        more_trash_words: lang.ta("more-trash", &[("n", Arg::N(trash.len() as i64))]),
        trash,
        more_trash,
        rules: retention::rule_fields(lang),
        zones: zones(),
        weekdays: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .enumerate()
            .map(|(i, d)| (d.to_string(), lang.t(&format!("weekday-short-{}", i + 1))))
            .collect(),
        states: RunState::ALL
            .iter()
            .map(|s| (s.as_str(), lang.t(&format!("state-{s}"))))
            .collect(),
        kinds: RunKind::ALL
            .iter()
            .map(|k| (k.as_str(), lang.t(&format!("kind-{k}"))))
            .collect(),
        history,
        version: env!("CARGO_PKG_VERSION"),
        deliveries: notes.deliveries,
        failing_channels: notes.failing,
    })
}

/// The time zones the forms offer, listed once: the system's database does
/// not change under a running server, and listing it costs a directory walk.
fn zones() -> &'static [String] {
    static ZONES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ZONES.get_or_init(|| {
        jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .collect()
    })
}
