//! The admin dashboard at `/dashboard/admin/backup` and the sign-in page:
//! server-rendered (askama, checked at compile time) from the same service calls
//! the API makes, with one small script of our own (`assets/app.js`) that talks
//! to the API. Assets are compiled into the binary; there is no build step.
//!
//! The page only ever reads on load; changes happen through the API, on a
//! person's click (see the script's header).

mod notifications;
mod proof;
mod retention;

use super::AppState;
use super::error::ApiQuery;
use crate::auth::{Principal, Role};
use crate::domain::{DestinationSpec, Run, RunKind, RunState, SourceSpec};
use crate::store::{BackupFilter, RunFilter};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::Timestamp;
use notifications::{DeliveryRow, FailingChannel};
use retention::{DestinationRetention, RULES, RuleField, TrashRow, retention_words};
use serde::Deserialize;

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
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(ApiQuery(q): ApiQuery<NextQuery>) -> Response {
    // Only paths on this origin: an open redirect would send people elsewhere
    // after sign-in.
    let next = q
        .next
        .as_deref()
        .and_then(super::origin::safe_next)
        .unwrap_or(DASHBOARD)
        .to_string();
    render(LoginPage { next })
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

struct JobCard {
    name: String,
    source_kind: String,
    source: String,
    destinations: Vec<String>,
    schedule: String,
    timezone: String,
    schedule_words: String,
    next_run: String,
    last_run: String,
    last_state: String,
    last_good: String,
    stale: bool,
    active_run: String,
    /// The job's retention in words ("Keeps 14 daily, 8 weekly; trash 48h").
    retention_words: String,
    /// Destinations written with their own `retention` table, and its words.
    destination_retention: Vec<DestinationRetention>,
    /// The job's own channels (URIs: names of secrets, never values).
    notify: Vec<String>,
    /// "stale after 26h without a backup", or empty when nothing is expected.
    max_age_words: String,
    /// How old the newest proven-restorable backup is, and how it was proven.
    proof: proof::JobProof,
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
    /// When, and for a damaged backup what was found.
    check_detail: String,
    /// `test-restored`, `test-failed` or empty: the last test restore.
    tested: &'static str,
    /// When, and its tables and rows (or why it failed).
    tested_detail: String,
}

struct RunRow {
    id: String,
    job: String,
    kind: String,
    trigger: String,
    state: String,
    started: String,
    duration: String,
    size: String,
    error: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    user: String,
    role: String,
    can_write: bool,
    csrf: String,
    jobs: Vec<JobCard>,
    backups: Vec<BackupRow>,
    trash: Vec<TrashRow>,
    more_trash: bool,
    rules: &'static [RuleField],
    runs: Vec<RunRow>,
    zones: &'static [String],
    weekdays: [&'static str; 7],
    states: Vec<String>,
    kinds: Vec<String>,
    filter_job: String,
    filter_state: String,
    filter_kind: String,
    /// The cursor of the next (older) page of runs; empty on the last.
    next_cursor: String,
    /// Whether this page of runs starts below the newest.
    paged: bool,
    /// Runs a page shows.
    limit: i64,
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
}

fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn ago(t: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second() - t.as_second();
    match secs {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

fn human(bytes: i64) -> String {
    crate::domain::human_bytes(bytes.max(0) as u64)
}

fn row(r: &Run) -> RunRow {
    let duration = match (r.started_at, r.finished_at) {
        (Some(s), Some(f)) => format!(
            "{:.1} s",
            (f.as_millisecond() - s.as_millisecond()) as f64 / 1000.0
        ),
        _ => "—".into(),
    };
    RunRow {
        id: r.id.clone(),
        job: r.job.clone(),
        kind: r.kind.to_string(),
        trigger: r.trigger.to_string(),
        state: r.state.to_string(),
        started: r.started_at.map(when).unwrap_or_else(|| "—".into()),
        duration,
        size: if r.bytes_out > 0 {
            human(r.bytes_out)
        } else {
            "—".into()
        },
        error: r.error.clone().unwrap_or_default(),
    }
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
        return Redirect::to(&format!("/login?next={DASHBOARD}")).into_response();
    };
    match page(&state, name, role, csrf, q).await {
        Ok(p) => render(p),
        Err(e) => {
            tracing::error!(error = %e, "dashboard failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the dashboard could not be built: {e}"),
            )
                .into_response()
        }
    }
}

async fn page(
    state: &AppState,
    user: String,
    role: Role,
    csrf: String,
    q: DashboardQuery,
) -> Result<DashboardPage, crate::service::ServiceError> {
    let sauve = &state.sauve;
    let now = Timestamp::now();
    let mut jobs = Vec::new();
    let mut glances: std::collections::HashMap<String, crate::store::JobGlance> = sauve
        .glance()
        .await?
        .into_iter()
        .map(|g| (g.job.clone(), g))
        .collect();
    for stored in sauve.jobs().await? {
        let valid = stored.spec.validate().ok();
        let glance = glances.remove(&stored.name).unwrap_or_default();
        let last = glance.last_run.as_ref();
        let active = glance.active_run.clone().unwrap_or_default();
        let last_good_at = glance.last_good_at.map(crate::store::ts);
        let schedule = valid.as_ref().and_then(|j| j.schedule.clone());
        // Stale by the watchdog's rule: no backup stored within max_age of
        // the last one (or of the job's creation).
        let max_age = valid.as_ref().and_then(|j| j.max_age_ms(now));
        let stale = max_age.is_some_and(|max| {
            let since = last_good_at.unwrap_or(stored.created_at);
            now.as_millisecond() - since.as_millisecond() >= max
        });
        let tz = stored.spec.timezone.clone().unwrap_or_else(|| "UTC".into());
        let next_run = match glance.next_fire_at.map(crate::store::ts) {
            Some(t) => match jiff::tz::TimeZone::get(&tz) {
                Ok(z) => t
                    .to_zoned_datetime(z)
                    .strftime("%Y-%m-%d %H:%M %Z")
                    .to_string(),
                Err(_) => when(t),
            },
            None => "—".into(),
        };
        jobs.push(JobCard {
            source_kind: valid
                .as_ref()
                .map(|j| j.source.kind())
                .unwrap_or("invalid")
                .to_string(),
            source: match &stored.spec.source {
                SourceSpec::Uri(u) => u.clone(),
                SourceSpec::Command(c) => c.command.join(" "),
            },
            destinations: stored.spec.destination_uris().map(String::from).collect(),
            schedule: stored.spec.schedule.clone().unwrap_or_default(),
            timezone: tz,
            schedule_words: schedule
                .map(|s| s.describe())
                .unwrap_or_else(|| "only on demand".into()),
            next_run,
            last_run: last
                .map(|r| {
                    format!(
                        "{} {}",
                        r.state,
                        ago(r.finished_at.or(r.started_at).unwrap_or(r.queued_at), now)
                    )
                })
                .unwrap_or_else(|| "never".into()),
            last_state: last.map(|r| r.state.to_string()).unwrap_or_default(),
            last_good: last_good_at
                .map(|t| ago(t, now))
                .unwrap_or_else(|| "never".into()),
            stale,
            active_run: active,
            retention_words: retention_words(stored.spec.retention.as_ref()),
            destination_retention: stored
                .spec
                .destinations
                .iter()
                .filter_map(|d| match d {
                    DestinationSpec::Table(t) => t.retention.as_ref().map(|own| {
                        // Its own rules replace the job's; min_keep and
                        // trash_for are the job's unless written here.
                        let job = stored.spec.retention.clone().unwrap_or_default();
                        DestinationRetention {
                            uri: t.uri.clone(),
                            words: retention_words(Some(&job.override_with(own))),
                        }
                    }),
                    DestinationSpec::Uri(_) => None,
                })
                .collect(),
            notify: stored.spec.notify.clone(),
            max_age_words: max_age
                .map(|ms| format!("stale after {} without a backup", duration_words(ms)))
                .unwrap_or_default(),
            proof: proof::of_job(
                sauve,
                &glance,
                valid
                    .as_ref()
                    .and_then(|j| j.verify.as_ref())
                    .is_some_and(|v| v.test_restore),
                now,
            )
            .await?,
            name: stored.name,
        });
    }
    let notes = notifications::rows(sauve).await?;
    let backups = sauve
        .backups(&BackupFilter {
            limit: 50,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|b| {
            let (tested, tested_detail) = proof::tested(&b);
            BackupRow {
                tested,
                tested_detail,
                check: match (b.damaged_at, b.verified_at) {
                    (Some(_), _) => "damaged",
                    (None, Some(_)) => "verified",
                    (None, None) => "",
                },
                check_detail: match (b.damaged_at, b.verified_at) {
                    (Some(t), _) => {
                        format!("{}: {}", when(t), b.verify_error.as_deref().unwrap_or(""))
                    }
                    (None, Some(t)) => when(t),
                    (None, None) => String::new(),
                },
                sha_short: b.sha256.chars().take(12).collect(),
                created: when(b.created_at),
                size: human(b.size),
                kind: b.source_kind,
                id: b.id,
                job: b.job,
                sha256: b.sha256,
                destination: b.destination,
            }
        })
        .collect();
    const TRASH_SHOWN: i64 = 100;
    let mut trash: Vec<TrashRow> = sauve
        .trash(None, TRASH_SHOWN + 1)
        .await?
        .into_iter()
        .map(|t| TrashRow {
            created: when(t.backup.created_at),
            size: human(t.backup.size),
            trashed: when(t.trashed_at),
            purge_after: when(t.purge_after),
            purge_due: t.purge_after <= now,
            reason: t.reason,
            purge_error: t.purge_error.unwrap_or_default(),
            id: t.backup.id,
            job: t.backup.job,
            destination: t.backup.destination,
        })
        .collect();
    let more_trash = trash.len() as i64 > TRASH_SHOWN;
    trash.truncate(TRASH_SHOWN as usize);
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
    Ok(DashboardPage {
        user,
        role: role.as_str().to_string(),
        can_write: role == Role::Admin,
        csrf,
        jobs,
        backups,
        trash,
        more_trash,
        rules: &RULES,
        runs: runs.iter().take(limit as usize).map(row).collect(),
        zones: zones(),
        weekdays: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        states: RunState::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        kinds: RunKind::ALL
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        filter_job,
        filter_state,
        filter_kind,
        next_cursor,
        paged: q.cursor.as_deref().is_some_and(|c| !c.is_empty()),
        limit,
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

/// `26h`, `3d`, `90s`: a duration as people write it in a job.
fn duration_words(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        s if s % 86_400 == 0 && s >= 86_400 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 && s >= 3600 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
