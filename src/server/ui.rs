//! The admin dashboard at `/dashboard/admin/backup` and the sign-in page:
//! server-rendered (askama, checked at compile time) from the same service calls
//! the API makes, with one small script of our own (`assets/app.js`) that talks
//! to the API. Assets are compiled into the binary; there is no build step.
//!
//! The page only ever reads on load; changes happen through the API, on a
//! person's click (see the script's header).

mod cards;
mod notifications;
mod pictures;
mod proof;
mod retention;
mod storage;
mod words;

use super::AppState;
use super::error::ApiQuery;
use super::i18n::{self, Arg, Lang, format};
use crate::auth::{Principal, Role};
use crate::domain::{Run, RunKind, RunState};
use crate::store::{BackupFilter, RunFilter};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cards::JobCard;
use jiff::Timestamp;
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

pub async fn root() -> Redirect {
    Redirect::to(DASHBOARD)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Lang,
    langs: [Lang; 2],
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    lang: Option<String>,
}

pub async fn login_page(headers: HeaderMap, ApiQuery(q): ApiQuery<NextQuery>) -> Response {
    let (lang, set_cookie) = language(&headers, q.lang.as_deref());
    // Only paths on this origin: an open redirect would send people elsewhere
    // after sign-in.
    let next = q
        .next
        .as_deref()
        .and_then(super::origin::safe_next)
        .unwrap_or(DASHBOARD)
        .to_string();
    let mut response = render(LoginPage {
        t: lang,
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

struct BackupRow {
    id: String,
    job: String,
    kind: String,
    created: String,
    size: String,
    sha256: String,
    sha_short: String,
    destination: String,
    /// `verified`, `damaged` or empty: what the last full re-read found.
    check: &'static str,
    check_words: String,
    /// When, and for a damaged backup what was found.
    check_detail: String,
    /// `test-restored`, `test-failed` or empty: the last test restore.
    tested: &'static str,
    tested_words: String,
    /// When, and its tables and rows (or why it failed).
    tested_detail: String,
}

struct RunRow {
    id: String,
    job: String,
    kind: String,
    trigger: String,
    state: String,
    state_words: String,
    started: String,
    duration: String,
    size: String,
    error: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: Lang,
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

fn row(lang: Lang, r: &Run) -> RunRow {
    let duration = match (r.started_at, r.finished_at) {
        (Some(s), Some(f)) => format::duration(lang, f.as_millisecond() - s.as_millisecond()),
        _ => "—".into(),
    };
    RunRow {
        id: r.id.clone(),
        job: r.job.clone(),
        kind: lang.t(&format!("kind-{}", r.kind)),
        trigger: lang.t(&format!("trigger-{}", r.trigger)),
        state: r.state.to_string(),
        state_words: lang.t(&format!("state-{}", r.state)),
        started: r
            .started_at
            .map(|t| format::when(lang, t))
            .unwrap_or_else(|| "—".into()),
        duration,
        size: if r.bytes_out > 0 {
            format::bytes(lang, r.bytes_out)
        } else {
            "—".into()
        },
        error: r.error.clone().unwrap_or_default(),
    }
}

/// The page's language, and the cookie that keeps a choice made on the
/// switch (`?lang=`): a preference, not a change of anything stored, so a
/// plain GET may set it.
fn language(headers: &HeaderMap, asked: Option<&str>) -> (Lang, Option<String>) {
    let cookie = super::auth::cookie(headers, i18n::COOKIE);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = Lang::negotiate(asked, cookie, accept);
    let set = asked.and_then(Lang::parse).map(|l| {
        format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            i18n::COOKIE,
            l.code()
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
    let Some((Principal::User { name, role }, csrf)) = session else {
        // A language asked for on the way in is the sign-in page's too.
        let lang = q
            .lang
            .as_deref()
            .and_then(Lang::parse)
            .map(|l| format!("&lang={}", l.code()))
            .unwrap_or_default();
        return Redirect::to(&format!("/login?next={DASHBOARD}{lang}")).into_response();
    };
    let (lang, set_cookie) = language(&headers, q.lang.as_deref());
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
        trends: &trends,
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
    let backups = backup_rows(lang, sauve).await?;
    let (trash, more_trash) = trash_rows(lang, sauve, now).await?;
    let history = history(lang, sauve, q).await?;
    let storage = storage::rows(
        lang,
        &trends,
        &jobs.iter().map(|j| j.name.as_str()).collect(),
        today,
    );
    Ok(DashboardPage {
        t: lang,
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

/// The History section: a page of runs, newest first, by the filters asked.
struct History {
    runs: Vec<RunRow>,
    filter_job: String,
    filter_state: String,
    filter_kind: String,
    /// The cursor of the next (older) page of runs; empty on the last.
    next_cursor: String,
    /// Whether this page of runs starts below the newest.
    paged: bool,
    /// Runs a page shows.
    limit: i64,
}

async fn history(
    lang: Lang,
    sauve: &crate::service::Sauve,
    q: DashboardQuery,
) -> Result<History, crate::service::ServiceError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    let filter_state = q
        .state
        .filter(|s| s.parse::<RunState>().is_ok())
        .unwrap_or_default();
    let filter_kind = q
        .kind
        .filter(|k| k.parse::<RunKind>().is_ok())
        .unwrap_or_default();
    let filter_job = q.job.unwrap_or_default();
    let runs = sauve
        .runs(&RunFilter {
            job: (!filter_job.is_empty()).then(|| filter_job.clone()),
            state: filter_state.parse().ok(),
            kind: filter_kind.parse().ok(),
            limit: limit + 1,
            // A cursor that is not one shows the newest runs.
            before_id: super::api::parse_cursor(q.cursor.clone()).ok().flatten(),
        })
        .await?;
    let next_cursor = match runs.get(limit as usize) {
        Some(_) => runs[limit as usize - 1].id.clone(),
        None => String::new(),
    };
    Ok(History {
        runs: runs
            .iter()
            .take(limit as usize)
            .map(|r| row(lang, r))
            .collect(),
        filter_job,
        filter_state,
        filter_kind,
        next_cursor,
        paged: q.cursor.as_deref().is_some_and(|c| !c.is_empty()),
        limit,
    })
}

/// The trash, newest removals first, as many as the page shows, and
/// whether there are more.
async fn trash_rows(
    lang: Lang,
    sauve: &crate::service::Sauve,
    now: Timestamp,
) -> Result<(Vec<TrashRow>, bool), crate::service::ServiceError> {
    const TRASH_SHOWN: i64 = 100;
    let mut trash: Vec<TrashRow> = sauve
        .trash(None, TRASH_SHOWN + 1)
        .await?
        .into_iter()
        .map(|t| {
            let created = format::when(lang, t.backup.created_at);
            TrashRow {
                undelete_label: lang.ta(
                    "undelete-label",
                    &[
                        ("job", Arg::S(&t.backup.job)),
                        ("created", Arg::S(&created)),
                    ],
                ),
                created,
                size: format::bytes(lang, t.backup.size),
                trashed: format::when(lang, t.trashed_at),
                purge_after: format::when(lang, t.purge_after),
                purge_due: t.purge_after <= now,
                reason: t.reason,
                purge_error: t.purge_error.unwrap_or_default(),
                id: t.backup.id,
                job: t.backup.job,
                destination: t.backup.destination,
            }
        })
        .collect();
    let more_trash = trash.len() as i64 > TRASH_SHOWN;
    trash.truncate(TRASH_SHOWN as usize);
    Ok((trash, more_trash))
}

/// The newest backups, with what their last verify and test restore found.
async fn backup_rows(
    lang: Lang,
    sauve: &crate::service::Sauve,
) -> Result<Vec<BackupRow>, crate::service::ServiceError> {
    Ok(sauve
        .backups(&BackupFilter {
            limit: 50,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|b| {
            let (tested, tested_detail) = proof::tested(lang, &b);
            let check = match (b.damaged_at, b.verified_at) {
                (Some(_), _) => "damaged",
                (None, Some(_)) => "verified",
                (None, None) => "",
            };
            BackupRow {
                tested,
                tested_words: if tested.is_empty() {
                    String::new()
                } else {
                    lang.t(&format!("badge-{tested}"))
                },
                tested_detail,
                check,
                check_words: if check.is_empty() {
                    String::new()
                } else {
                    lang.t(&format!("badge-{check}"))
                },
                check_detail: match (b.damaged_at, b.verified_at) {
                    (Some(t), _) => format::at(lang, t, b.verify_error.as_deref().unwrap_or("")),
                    (None, Some(t)) => format::when(lang, t),
                    (None, None) => String::new(),
                },
                sha_short: b.sha256.chars().take(12).collect(),
                created: format::when(lang, b.created_at),
                size: format::bytes(lang, b.size),
                kind: b.source_kind,
                id: b.id,
                job: b.job,
                sha256: b.sha256,
                destination: b.destination,
            }
        })
        .collect())
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
