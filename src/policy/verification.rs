//! Which backups a scheduled verification re-reads, so that every stored
//! backup is re-read at least once per `coverage` period while each slot
//! carries about its share of the work.
//!
//! A backup is due by `deadline = (verified_at or created_at) + coverage`.
//! A slot takes every backup whose deadline comes before the next slot (it
//! would be late otherwise) and, when those are fewer than its share
//! (`n × interval / coverage`, rounded down), the next soonest due, so a
//! large history is spread over the period instead of read in one night.
//! What it takes is re-read soonest deadline first: the ones about to be
//! late are read at the start of the run, not after the rest.
//!
//! Pure: times are Unix milliseconds; no clock, no I/O.

/// A stored backup, as the selection sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: String,
    pub created_at: i64,
    /// When a full re-read last found it good.
    pub verified_at: Option<i64>,
}

impl Stored {
    fn deadline(&self, coverage_ms: i64) -> i64 {
        self.verified_at
            .unwrap_or(self.created_at)
            .saturating_add(coverage_ms)
    }
}

/// The ids to re-read in the slot at `now`, soonest deadline first.
/// `interval_ms` is the longest gap between two slots of the verification
/// schedule.
pub fn due(backups: &[Stored], coverage_ms: i64, interval_ms: i64, now: i64) -> Vec<String> {
    if backups.is_empty() {
        return vec![];
    }
    let coverage = coverage_ms.max(1);
    let next_slot = now.saturating_add(interval_ms.max(0));
    let mut by_deadline: Vec<&Stored> = backups.iter().collect();
    by_deadline.sort_by_key(|b| (b.deadline(coverage), std::cmp::Reverse(b.created_at)));
    let n = backups.len() as i64;
    // Rounded down: a job with a few large backups re-reads each once per
    // period (by its deadline), not one every slot.
    let share = n.saturating_mul(interval_ms.max(0)) / coverage;
    let mut chosen: Vec<&Stored> = Vec::new();
    for b in by_deadline {
        if b.deadline(coverage) <= next_slot || (chosen.len() as i64) < share {
            chosen.push(b);
        } else {
            break;
        }
    }
    chosen.into_iter().map(|b| b.id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const DAY: i64 = 24 * H;

    fn b(id: &str, created: i64, verified: Option<i64>) -> Stored {
        Stored {
            id: id.into(),
            created_at: created,
            verified_at: verified,
        }
    }

    #[test]
    fn each_slot_takes_what_would_be_late_and_its_share() {
        // (backups, coverage, interval, now, expected ids newest first)
        type Case = (Vec<Stored>, i64, i64, i64, Vec<&'static str>);
        let cases: Vec<Case> = vec![
            (vec![], 30 * DAY, DAY, 0, vec![]),
            // One backup, a month to go: not yet (its share rounds to 0).
            (vec![b("a", 0, None)], 30 * DAY, DAY, DAY, vec![]),
            // …until the slot before its deadline.
            (vec![b("a", 0, None)], 30 * DAY, DAY, 29 * DAY, vec!["a"]),
            (
                vec![b("a", 0, Some(DAY))],
                30 * DAY,
                DAY,
                30 * DAY,
                vec!["a"],
            ),
            (
                vec![b("a", 0, Some(DAY))],
                30 * DAY,
                DAY,
                29 * DAY - 1,
                vec![],
            ),
            // Thirty backups, daily slots, 30 days: one a night, the most
            // overdue (never verified, oldest) first.
            (
                (0..30)
                    .map(|i| b(&format!("b{i:02}"), i * DAY, Some(30 * DAY + i * H)))
                    .collect(),
                30 * DAY,
                DAY,
                31 * DAY,
                vec!["b00"],
            ),
            // Sixty backups: two a night.
            (
                (0..60)
                    .map(|i| b(&format!("b{i:02}"), i * H, Some(DAY + i * H)))
                    .collect(),
                30 * DAY,
                DAY,
                2 * DAY,
                vec!["b00", "b01"],
            ),
            // Everything would be late before the next slot: all of it, soonest late first.
            (
                vec![
                    b("old", 0, None),
                    b("mid", H, Some(H)),
                    b("new", 2 * H, None),
                ],
                DAY,
                DAY,
                DAY,
                vec!["old", "mid", "new"],
            ),
            // Coverage shorter than the gap between slots: each slot takes all.
            (
                vec![b("a", 0, Some(10)), b("b", 5, Some(10))],
                H,
                DAY,
                20,
                vec!["b", "a"],
            ),
        ];
        for (backups, coverage, interval, now, want) in cases {
            assert_eq!(
                due(&backups, coverage, interval, now),
                want,
                "{backups:?} at {now}"
            );
        }
    }

    #[test]
    fn a_month_of_daily_slots_rereads_every_backup_within_coverage() {
        // 100 backups made over 100 days, then 90 days of daily slots with a
        // 30-day coverage: no backup ever goes longer than 30 days unread.
        let coverage = 30 * DAY;
        let mut backups: Vec<Stored> = (0..100)
            .map(|i| b(&format!("{i:03}"), i * DAY, None))
            .collect();
        let mut last_read: std::collections::HashMap<String, i64> = backups
            .iter()
            .map(|b| (b.id.clone(), b.created_at))
            .collect();
        let mut total = 0;
        for day in 100..190 {
            let now = day * DAY;
            // Before this slot's reads: nothing has gone unread for longer
            // than the coverage (the first slot catches up on the history).
            if day > 100 {
                for s in &backups {
                    let since = s.verified_at.unwrap_or(s.created_at);
                    assert!(
                        now - since <= coverage,
                        "{} unread for {} h on day {day}",
                        s.id,
                        (now - since) / H
                    );
                }
            }
            let picked = due(&backups, coverage, DAY, now);
            total += picked.len();
            // Reads take time: the n-th one ends n minutes into the slot.
            for (n, id) in picked.into_iter().enumerate() {
                let read_at = now + (n as i64 + 1) * 60_000;
                let s = backups.iter_mut().find(|s| s.id == id).unwrap();
                if day > 100 {
                    let since = s.verified_at.unwrap_or(s.created_at);
                    assert!(
                        read_at - since <= coverage,
                        "{id} read {} min late",
                        (read_at - since - coverage) / 60_000
                    );
                }
                s.verified_at = Some(read_at);
                last_read.insert(id, read_at);
            }
        }
        // About n × days / coverage reads (100 × 90 / 30 = 300), not a
        // re-read of everything every night (9,000).
        assert!((300..=500).contains(&total), "{total} reads");
    }
}
