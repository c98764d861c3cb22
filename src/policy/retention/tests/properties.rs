//! Invariants over 2,000 random plans (a small deterministic generator, no extra crate).

use super::*;

/// xorshift64*: deterministic, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn count(&mut self) -> Count {
        match self.below(4) {
            0 => Count::Unlimited,
            _ => Count::N(self.below(6) as u32),
        }
    }

    fn within(&mut self) -> Option<Within> {
        let mut small = |odds| {
            if self.below(odds) == 0 {
                self.below(4) as u32
            } else {
                0
            }
        };
        let within = Within {
            years: small(6),
            months: small(3),
            days: small(2),
            hours: small(2) * 7,
        };
        (self.below(3) == 0 && !within.is_zero()).then_some(within)
    }

    fn maybe_count(&mut self) -> Count {
        if self.below(2) == 0 {
            Count::N(0)
        } else {
            self.count()
        }
    }

    fn rules(&mut self) -> Rules {
        Rules {
            last: self.maybe_count(),
            hourly: self.maybe_count(),
            daily: self.maybe_count(),
            weekly: self.maybe_count(),
            monthly: self.maybe_count(),
            yearly: self.maybe_count(),
            within: self.within(),
            within_hourly: self.within(),
            within_daily: self.within(),
            within_weekly: self.within(),
            within_monthly: self.within(),
            within_yearly: self.within(),
        }
    }

    /// The same rules with one rule turned on or widened.
    fn with_one_more(&mut self, rules: Rules) -> Rules {
        let mut more = rules;
        let within = Some(Within {
            days: 1 + self.below(60) as u32,
            ..Within::default()
        });
        match self.below(12) {
            0 => more.last = Count::Unlimited,
            1 => more.hourly = Count::Unlimited,
            2 => more.daily = Count::Unlimited,
            3 => more.weekly = Count::Unlimited,
            4 => more.monthly = Count::Unlimited,
            5 => more.yearly = Count::Unlimited,
            6 => more.within = more.within.or(within),
            7 => more.within_hourly = more.within_hourly.or(within),
            8 => more.within_daily = more.within_daily.or(within),
            9 => more.within_weekly = more.within_weekly.or(within),
            10 => more.within_monthly = more.within_monthly.or(within),
            _ => more.within_yearly = more.within_yearly.or(within),
        }
        more
    }
}

const ZONES: [&str; 5] = [
    "UTC",
    "Europe/Paris",
    "Asia/Kolkata",
    "America/New_York",
    "Australia/Lord_Howe",
];

type Times = std::collections::HashMap<String, Timestamp>;

/// A plan with ids replaced by times: what must not depend on input order.
fn shape(plan: &Plan, times: &Times) -> Vec<(bool, Timestamp, Vec<String>)> {
    let kept = plan
        .keep
        .iter()
        .map(|k| (true, times[&k.id], k.reasons.clone()));
    let removed = plan
        .remove
        .iter()
        .map(|r| (false, times[&r.id], Vec::new()));
    kept.chain(removed).collect()
}

/// Up to 40 backups over three years, every fourth at an earlier one's time
/// (an exact tie), and an instant that may come before some of them.
fn random_case(rng: &mut Rng) -> (Vec<Candidate>, Timestamp, Policy) {
    let base: Timestamp = "2021-06-01T00:00:00Z".parse().unwrap();
    let minutes_back = |minutes: i64| {
        base.checked_sub(SignedDuration::from_mins(minutes))
            .unwrap()
    };
    let mut list: Vec<Candidate> = Vec::new();
    for i in 0..rng.below(40) as usize {
        let time = match (i, rng.below(4)) {
            (1.., 0) => list[rng.below(i as u64) as usize].time,
            _ => minutes_back(rng.below(3 * 365 * 24 * 60) as i64),
        };
        list.push(Candidate {
            id: format!("c{i}"),
            time,
        });
    }
    let now = minutes_back(rng.below(400 * 24 * 60) as i64 - 30 * 24 * 60);
    let policy = Policy {
        rules: rng.rules(),
        min_keep: rng.below(6) as u32,
        ..Policy::default()
    };
    (list, now, policy)
}

fn newest_first(list: &[Candidate]) -> Vec<&Candidate> {
    let mut sorted: Vec<&Candidate> = list.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.time));
    sorted
}

/// What holds of every plan, given what the rules alone kept.
fn check_plan(policy: &Policy, list: &[Candidate], rules_kept: usize, got: &Plan, context: &str) {
    let mut seen: Vec<&str> = got
        .kept_ids()
        .into_iter()
        .chain(got.removed_ids())
        .collect();
    let mut ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
    seen.sort_unstable();
    ids.sort_unstable();
    assert_eq!(seen, ids, "every candidate exactly once; {context}");
    let times: Times = list.iter().map(|c| (c.id.clone(), c.time)).collect();
    let order = shape(got, &times);
    let sorted =
        |part: &[(bool, Timestamp, Vec<String>)]| part.windows(2).all(|w| w[0].1 >= w[1].1);
    let (kept, removed) = order.split_at(got.keep.len());
    assert!(sorted(kept) && sorted(removed), "newest first; {context}");
    assert!(
        got.keep.iter().all(|k| !k.reasons.is_empty()),
        "reasons; {context}"
    );
    if let Some(newest) = newest_first(list).first() {
        assert!(
            got.kept_ids().contains(&newest.id.as_str()),
            "newest kept; {context}"
        );
    }
    let floor = list.len().min(policy.min_keep as usize);
    if got.refused.is_some() {
        assert!(
            got.remove.is_empty() && rules_kept == 0,
            "refused; {context}"
        );
    } else if !list.is_empty() {
        // The newest floors add one each when the rules missed it (the
        // newest, and the newest not in the future); min_keep tops up.
        let floors = got
            .keep
            .iter()
            .filter(|k| k.reasons == [NEWEST] || k.reasons == [NEWEST_PRESENT])
            .count();
        let expect = floor.max(rules_kept + floors);
        assert_eq!(got.keep.len(), expect, "floors; {context}");
    }
}

#[test]
fn invariants_over_random_plans() {
    let zones: Vec<TimeZone> = ZONES.iter().map(|z| zone(z)).collect();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for round in 0..2_000 {
        let tz = &zones[rng.below(zones.len() as u64) as usize];
        let (list, now, policy) = random_case(&mut rng);
        let context = format!("round {round}: {policy:?} in {tz:?} at {now}, {list:?}");
        let sorted = newest_first(&list);
        let by_rules = apply_rules(&policy.rules, &sorted, tz, now);
        let rules_kept = by_rules.iter().filter(|r| !r.is_empty()).count();
        let got = plan(&policy, &list, tz, now);
        check_plan(&policy, &list, rules_kept, &got, &context);

        // Any input order gives the same plan up to which of two equal times is which.
        let mut shuffled = list.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let again = plan(&policy, &shuffled, tz, now);
        let times: Times = list.iter().map(|c| (c.id.clone(), c.time)).collect();
        assert_eq!(
            shape(&again, &times),
            shape(&got, &times),
            "order; {context}"
        );
        if times.values().collect::<BTreeSet<_>>().len() == list.len() {
            assert_eq!(again, got, "order without ties; {context}");
        }

        // One more rule: the rules keep a superset, so the plan removes no
        // more, counted (min_keep may then pick others), unless the first plan
        // removed nothing at all as an empty or refused one.
        if policy.rules.is_empty() {
            continue;
        }
        let more = Policy {
            rules: rng.with_one_more(policy.rules),
            ..policy.clone()
        };
        let by_more = apply_rules(&more.rules, &sorted, tz, now);
        let superset = by_rules
            .iter()
            .zip(&by_more)
            .all(|(b, a)| b.is_empty() || !a.is_empty());
        assert!(superset, "rules monotone; {context}");
        if got.refused.is_none() {
            let wider = plan(&more, &list, tz, now);
            assert!(
                wider.remove.len() <= got.remove.len(),
                "plan monotone; {context}"
            );
        }
    }
}
