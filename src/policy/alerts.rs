//! When a job's history deserves a person's attention: failure streaks and
//! staleness. A job's [`Health`] is folded run by run ([`on_finished`]) and
//! checked against the clock by the watchdog ([`on_watch`]); each returns the
//! new health and the alerts it raises.
//!
//! - **One alert per streak.** The first failure opens a streak and alerts;
//!   later failures alert again only once `remind_every` has passed since the
//!   last alert; the first success closes the streak with a recovery.
//! - **Staleness.** No backup stored within `max_age` of the last one (or of
//!   the job's creation, when it never succeeded) is stale: one alert, then
//!   reminders; the next stored backup clears it.
//!
//! Each alert has a key made only of the job and the history (the run that
//! opened the streak, the backup a staleness counts from, the reminder's number),
//! so instances that reach the same decision make the same key, and the
//! outbox keeps one delivery per key.
//!
//! Pure: no clock, no I/O; times are Unix milliseconds.

use serde::{Deserialize, Serialize};

/// What the watchdog adds to twice a schedule's interval before a job is
/// stale: room for a slow run.
pub const STALE_GRACE_MS: i64 = 3_600_000;

/// How often an open streak or a staleness is reminded, unless the job says.
pub const DEFAULT_REMIND_MS: i64 = 24 * 3_600_000;

/// A job's alerting state, folded from its finished backup runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The last finished run folded in: (finished at, run id). Runs at or
    /// before it were seen already.
    #[serde(default)]
    pub seen: Option<(i64, String)>,
    /// When the last backup was stored (a succeeded or partial run ended).
    #[serde(default)]
    pub last_good_at: Option<i64>,
    #[serde(default)]
    pub streak: Option<Streak>,
    #[serde(default)]
    pub stale: Option<Stale>,
}

/// Consecutive failed (or partial) runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Streak {
    /// The run that opened it: the streak's name in alert keys.
    pub run: String,
    pub since: i64,
    pub failures: u32,
    /// When the last alert of this streak was raised.
    pub notified_at: i64,
    pub reminders: u32,
}

/// No backup stored for longer than the job's `max_age`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stale {
    /// The last backup (or the job's creation) the staleness counts from:
    /// its name. `max_age` may move (a default follows the schedule's gaps,
    /// a person edits it) without making it another staleness.
    pub reference: i64,
    /// When the job became stale: `reference` + `max_age` as last seen.
    pub since: i64,
    pub notified_at: i64,
    pub reminders: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Some destinations got the backup, others did not: a backup exists,
    /// and a destination is failing.
    Partial,
    Failed,
}

/// A backup run's final outcome.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    pub run: &'a str,
    pub at: i64,
    pub outcome: Outcome,
}

/// What deserves a person's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// A streak opened (`reminder` 0) or is still open (a reminder).
    Failing {
        streak_run: String,
        since: i64,
        failures: u32,
        reminder: u32,
    },
    /// The first success after a streak or a staleness that was alerted.
    Recovered {
        /// The streak's opening run, or None when only staleness ended.
        streak_run: Option<String>,
        since: i64,
        failures: u32,
    },
    Stale {
        since: i64,
        /// The last stored backup, or the job's creation.
        reference: i64,
        reminder: u32,
    },
}

impl Alert {
    /// The delivery key: the same decision made twice (two instances, a
    /// replay after a crash) makes the same key.
    pub fn key(&self, job: &str) -> String {
        let suffix = |n: u32| {
            if n == 0 {
                String::new()
            } else {
                format!(":r{n}")
            }
        };
        match self {
            Alert::Failing {
                streak_run,
                reminder,
                ..
            } => format!("run.failed:{job}:{streak_run}{}", suffix(*reminder)),
            Alert::Recovered {
                streak_run: Some(r),
                ..
            } => format!("run.recovered:{job}:{r}"),
            Alert::Recovered { since, .. } => format!("run.recovered:{job}:stale-{since}"),
            Alert::Stale {
                reference,
                reminder,
                ..
            } => format!("backup.stale:{job}:{reference}{}", suffix(*reminder)),
        }
    }
}

/// Whether the run that finished at `at` was folded already: runs are
/// folded in (finished at, id) order, once.
pub fn is_seen(h: &Health, at: i64, run: &str) -> bool {
    h.seen
        .as_ref()
        .is_some_and(|(seen_at, seen)| (*seen_at, seen.as_str()) >= (at, run))
}

/// Folds a finished backup run into the job's health. None: the run was
/// seen already (folded by another instance, or replayed).
pub fn on_finished(h: &Health, f: Finished<'_>, remind_ms: i64) -> Option<(Health, Vec<Alert>)> {
    if is_seen(h, f.at, f.run) {
        return None;
    }
    let mut next = h.clone();
    next.seen = Some((f.at, f.run.to_string()));
    let mut alerts = Vec::new();
    if matches!(f.outcome, Outcome::Succeeded | Outcome::Partial) {
        next.last_good_at = Some(f.at);
        next.stale = None;
    }
    match f.outcome {
        Outcome::Succeeded => {
            let streak = next.streak.take();
            if streak.is_some() || h.stale.is_some() {
                alerts.push(Alert::Recovered {
                    since: streak
                        .as_ref()
                        .map(|s| s.since)
                        .or(h.stale.as_ref().map(|s| s.reference))
                        .unwrap_or(f.at),
                    failures: streak.as_ref().map_or(0, |s| s.failures),
                    streak_run: streak.map(|s| s.run),
                });
            }
        }
        Outcome::Partial | Outcome::Failed => match &mut next.streak {
            None => {
                next.streak = Some(Streak {
                    run: f.run.to_string(),
                    since: f.at,
                    failures: 1,
                    notified_at: f.at,
                    reminders: 0,
                });
                alerts.push(Alert::Failing {
                    streak_run: f.run.to_string(),
                    since: f.at,
                    failures: 1,
                    reminder: 0,
                });
            }
            Some(s) => {
                s.failures += 1;
                if f.at - s.notified_at >= remind_ms {
                    s.reminders += 1;
                    s.notified_at = f.at;
                    alerts.push(Alert::Failing {
                        streak_run: s.run.clone(),
                        since: s.since,
                        failures: s.failures,
                        reminder: s.reminders,
                    });
                }
            }
        },
    }
    Some((next, alerts))
}

/// What the watchdog decided for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// The new health, when it changed.
    pub health: Option<Health>,
    pub alert: Option<Alert>,
}

/// Checks a job's health against the clock: stale when no backup was
/// stored within `max_ms` of the last one, or of `created_at` when none was.
pub fn on_watch(h: &Health, created_at: i64, max_ms: i64, remind_ms: i64, now: i64) -> Watch {
    let reference = h.last_good_at.unwrap_or(created_at);
    let since = reference.saturating_add(max_ms);
    if now < since {
        // Fresh (a larger max_age may have made an alerted job fresh again).
        return Watch {
            health: h.stale.is_some().then(|| Health {
                stale: None,
                ..h.clone()
            }),
            alert: None,
        };
    }
    match &h.stale {
        Some(s) if s.reference == reference => {
            if now - s.notified_at < remind_ms {
                // The same staleness; `since` follows a moved max_age quietly.
                return Watch {
                    health: (s.since != since).then(|| Health {
                        stale: Some(Stale { since, ..s.clone() }),
                        ..h.clone()
                    }),
                    alert: None,
                };
            }
            let reminders = s.reminders + 1;
            Watch {
                health: Some(Health {
                    stale: Some(Stale {
                        reference,
                        since,
                        notified_at: now,
                        reminders,
                    }),
                    ..h.clone()
                }),
                alert: Some(Alert::Stale {
                    since,
                    reference,
                    reminder: reminders,
                }),
            }
        }
        _ => Watch {
            health: Some(Health {
                stale: Some(Stale {
                    reference,
                    since,
                    notified_at: now,
                    reminders: 0,
                }),
                ..h.clone()
            }),
            alert: Some(Alert::Stale {
                since,
                reference,
                reminder: 0,
            }),
        },
    }
}

/// What a job's card says of it at a glance, by the watchdog's own rules:
/// an open failure streak, then staleness (no backup stored within `max_ms`
/// of the last one, or of `created_at`), then never having stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Its last backups failed: since the streak's first failure (ms).
    Failing {
        since: i64,
        failures: u32,
    },
    /// Nothing stored for too long: since `reference + max_ms` (ms).
    Stale {
        since: i64,
    },
    /// It has never stored a backup, and is not yet late.
    NeverSucceeded,
    Healthy,
}

/// A job's [`Status`] now. A failing job that is also stale is failing: the
/// failure says why nothing was stored.
pub fn status(h: &Health, created_at: i64, max_ms: Option<i64>, now: i64) -> Status {
    if let Some(s) = &h.streak {
        return Status::Failing {
            since: s.since,
            failures: s.failures,
        };
    }
    if let Some(since) = stale_since(h, created_at, max_ms, now) {
        return Status::Stale { since };
    }
    match h.last_good_at {
        None => Status::NeverSucceeded,
        Some(_) => Status::Healthy,
    }
}

/// When the job became stale, if it is: no backup stored within `max_ms`
/// of the last one (or of `created_at`); never without a `max_ms`.
pub fn stale_since(h: &Health, created_at: i64, max_ms: Option<i64>, now: i64) -> Option<i64> {
    let since = h.last_good_at.unwrap_or(created_at).saturating_add(max_ms?);
    (now >= since).then_some(since)
}

/// The default `max_age` of a scheduled job: twice the longest gap between
/// its next fire times, plus [`STALE_GRACE_MS`]. None with fewer than two.
pub fn default_max_age(fires: &[i64]) -> Option<i64> {
    let gap = fires.windows(2).map(|w| w[1] - w[0]).max()?;
    Some(gap.saturating_mul(2).saturating_add(STALE_GRACE_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const DAY: i64 = 24 * H;

    #[test]
    fn status_follows_the_watchdogs_rules() {
        let streak = |since| Streak {
            run: "r1".into(),
            since,
            failures: 3,
            notified_at: since,
            reminders: 0,
        };
        let good = |at| Health {
            last_good_at: Some(at),
            ..Health::default()
        };
        let created = 0;
        let cases: &[(&str, Health, Option<i64>, i64, Status)] = &[
            (
                "new job, nothing expected",
                Health::default(),
                None,
                DAY,
                Status::NeverSucceeded,
            ),
            (
                "new job, not yet late",
                Health::default(),
                Some(26 * H),
                25 * H,
                Status::NeverSucceeded,
            ),
            (
                "new job, late exactly at max_age",
                Health::default(),
                Some(26 * H),
                26 * H,
                Status::Stale { since: 26 * H },
            ),
            (
                "good and fresh",
                good(DAY),
                Some(26 * H),
                DAY + H,
                Status::Healthy,
            ),
            (
                "good, no max_age: never stale",
                good(DAY),
                None,
                400 * DAY,
                Status::Healthy,
            ),
            (
                "good one tick before max_age",
                good(DAY),
                Some(26 * H),
                DAY + 26 * H - 1,
                Status::Healthy,
            ),
            (
                "good, then stale",
                good(DAY),
                Some(26 * H),
                3 * DAY,
                Status::Stale {
                    since: DAY + 26 * H,
                },
            ),
            (
                "failing wins over stale",
                Health {
                    streak: Some(streak(2 * DAY)),
                    ..good(DAY)
                },
                Some(26 * H),
                9 * DAY,
                Status::Failing {
                    since: 2 * DAY,
                    failures: 3,
                },
            ),
            (
                "failing without ever succeeding",
                Health {
                    streak: Some(streak(H)),
                    ..Health::default()
                },
                None,
                DAY,
                Status::Failing {
                    since: H,
                    failures: 3,
                },
            ),
        ];
        for (what, h, max, now, want) in cases {
            assert_eq!(status(h, created, *max, *now), *want, "{what}");
        }
    }

    fn fold(outcomes: &[(&str, i64, Outcome)], remind: i64) -> (Health, Vec<String>) {
        let mut h = Health::default();
        let mut keys = Vec::new();
        for (run, at, outcome) in outcomes {
            let (next, alerts) = on_finished(
                &h,
                Finished {
                    run,
                    at: *at,
                    outcome: *outcome,
                },
                remind,
            )
            .expect("not seen");
            keys.extend(alerts.iter().map(|a| a.key("j")));
            h = next;
        }
        (h, keys)
    }

    #[test]
    fn streaks_alert_once_then_remind_then_recover() {
        use Outcome::*;
        // (runs as (id, at, outcome), remind_every, expected alert keys)
        type Case = (
            &'static [(&'static str, i64, Outcome)],
            i64,
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (&[], DAY, &[]),
            (&[("a", 1, Succeeded)], DAY, &[]),
            (&[("a", 1, Failed)], DAY, &["run.failed:j:a"]),
            (&[("a", 1, Partial)], DAY, &["run.failed:j:a"]),
            // A job failing every 2 s for a minute: one alert.
            (
                &[
                    ("a", 0, Failed),
                    ("b", 2_000, Failed),
                    ("c", 4_000, Failed),
                    ("d", 60_000, Failed),
                ],
                DAY,
                &["run.failed:j:a"],
            ),
            (
                &[
                    ("a", 0, Failed),
                    ("b", 2_000, Failed),
                    ("c", 4_000, Succeeded),
                ],
                DAY,
                &["run.failed:j:a", "run.recovered:j:a"],
            ),
            // Success after success: nothing to recover from.
            (&[("a", 0, Succeeded), ("b", 1, Succeeded)], DAY, &[]),
            // A reminder once remind_every has passed since the last alert.
            (
                &[
                    ("a", 0, Failed),
                    ("b", DAY - 1, Failed),
                    ("c", DAY, Failed),
                    ("d", DAY + H, Failed),
                    ("e", 2 * DAY, Failed),
                ],
                DAY,
                &["run.failed:j:a", "run.failed:j:a:r1", "run.failed:j:a:r2"],
            ),
            // Two streaks, each its own key.
            (
                &[
                    ("a", 0, Failed),
                    ("b", 1, Succeeded),
                    ("c", 2, Failed),
                    ("d", 3, Failed),
                    ("e", 4, Succeeded),
                ],
                DAY,
                &[
                    "run.failed:j:a",
                    "run.recovered:j:a",
                    "run.failed:j:c",
                    "run.recovered:j:c",
                ],
            ),
            // A partial keeps the streak open: only a full success recovers.
            (
                &[("a", 0, Failed), ("b", 1, Partial), ("c", 2, Succeeded)],
                DAY,
                &["run.failed:j:a", "run.recovered:j:a"],
            ),
            // remind_every of 1 ms: every failure is a reminder.
            (
                &[("a", 0, Failed), ("b", 5, Failed), ("c", 9, Failed)],
                1,
                &["run.failed:j:a", "run.failed:j:a:r1", "run.failed:j:a:r2"],
            ),
        ];
        for (runs, remind, want) in cases {
            let (_, keys) = fold(runs, *remind);
            assert_eq!(keys, *want, "{runs:?}");
        }
    }

    #[test]
    fn a_run_seen_once_is_never_folded_again() {
        let (h, _) = fold(&[("b", 10, Outcome::Failed)], DAY);
        for (run, at) in [("b", 10), ("a", 10), ("z", 9)] {
            let f = Finished {
                run,
                at,
                outcome: Outcome::Failed,
            };
            assert_eq!(on_finished(&h, f, DAY), None, "{run}@{at}");
        }
        // Same instant, later id: new.
        let f = Finished {
            run: "c",
            at: 10,
            outcome: Outcome::Succeeded,
        };
        let (next, alerts) = on_finished(&h, f, DAY).unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(next.streak, None);
        assert_eq!(next.last_good_at, Some(10));
    }

    #[test]
    fn staleness_alerts_once_reminds_and_clears() {
        let created = 1_000;
        let max = 10 * H;
        let fresh = Health::default();
        // (health, now, expected alert key, stale afterwards)
        let w = on_watch(&fresh, created, max, DAY, created + max - 1);
        assert_eq!(
            w,
            Watch {
                health: None,
                alert: None
            }
        );
        let w = on_watch(&fresh, created, max, DAY, created + max);
        let since = created + max;
        assert_eq!(
            w.alert.as_ref().unwrap().key("j"),
            format!("backup.stale:j:{created}")
        );
        let stale = w.health.unwrap();
        // Still stale, within remind_every: nothing.
        let w = on_watch(&stale, created, max, DAY, since + DAY - 1);
        assert_eq!(
            w,
            Watch {
                health: None,
                alert: None
            }
        );
        // A reminder.
        let w = on_watch(&stale, created, max, DAY, since + DAY);
        assert_eq!(
            w.alert.unwrap().key("j"),
            format!("backup.stale:j:{created}:r1")
        );
        let reminded = w.health.unwrap();
        assert_eq!(reminded.stale.as_ref().unwrap().reminders, 1);
        // The next success clears it and says so.
        let (ok, alerts) = on_finished(
            &reminded,
            Finished {
                run: "r",
                at: since + DAY + 5,
                outcome: Outcome::Succeeded,
            },
            DAY,
        )
        .unwrap();
        assert_eq!(ok.stale, None);
        assert_eq!(
            alerts[0].key("j"),
            format!("run.recovered:j:stale-{created}")
        );
        // Counted from the last backup now.
        let w = on_watch(&ok, created, max, DAY, since + DAY + 6);
        assert_eq!(
            w,
            Watch {
                health: None,
                alert: None
            }
        );
        let good = since + DAY + 5;
        let w = on_watch(&ok, created, max, DAY, good + max);
        assert_eq!(w.alert.unwrap().key("j"), format!("backup.stale:j:{good}"));
        // A max_age that moves while the job stays stale (a default that
        // follows the schedule across DST, an edit): the same staleness,
        // no new alert, and its reminder still counts from the first.
        let w = on_watch(&stale, created, max + H, DAY, since + 2 * H);
        assert_eq!(w.alert, None);
        let moved = w.health.unwrap();
        assert_eq!(moved.stale.as_ref().unwrap().since, since + H);
        assert_eq!(moved.stale.as_ref().unwrap().notified_at, since);
        let w = on_watch(&moved, created, max - H, DAY, since + 3 * H);
        assert_eq!(w.alert, None);
        let w = on_watch(&moved, created, max, DAY, since + DAY);
        assert_eq!(
            w.alert.unwrap().key("j"),
            format!("backup.stale:j:{created}:r1")
        );
        // A larger max_age makes an alerted job fresh again, silently.
        let w = on_watch(&stale, created, 100 * H, DAY, since + 1);
        assert_eq!(w.alert, None);
        assert_eq!(w.health.unwrap().stale, None);
        // A partial stores a backup: no longer stale, but a streak opens.
        let (p, alerts) = on_finished(
            &stale,
            Finished {
                run: "p",
                at: since + 1,
                outcome: Outcome::Partial,
            },
            DAY,
        )
        .unwrap();
        assert_eq!(p.stale, None);
        assert_eq!(alerts[0].key("j"), "run.failed:j:p");
        // A failure does not clear staleness.
        let (f, _) = on_finished(
            &stale,
            Finished {
                run: "f",
                at: since + 1,
                outcome: Outcome::Failed,
            },
            DAY,
        )
        .unwrap();
        assert!(f.stale.is_some());
    }

    #[test]
    fn default_max_age_is_twice_the_longest_gap_plus_grace() {
        let cases: &[(&[i64], Option<i64>)] = &[
            (&[], None),
            (&[0], None),
            (&[0, DAY, 2 * DAY], Some(2 * DAY + STALE_GRACE_MS)),
            // weekly on mon,thu: gaps of 3 and 4 days; the longer counts.
            (
                &[0, 3 * DAY, 7 * DAY, 10 * DAY],
                Some(8 * DAY + STALE_GRACE_MS),
            ),
            (&[0, 2_000], Some(4_000 + STALE_GRACE_MS)),
        ];
        for (fires, want) in cases {
            assert_eq!(default_max_age(fires), *want, "{fires:?}");
        }
    }

    #[test]
    fn health_round_trips_as_json() {
        let (h, _) = fold(&[("a", 1, Outcome::Failed)], DAY);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Health>(&json).unwrap(), h);
        assert_eq!(
            serde_json::from_str::<Health>("{}").unwrap(),
            Health::default()
        );
    }
}
