//! The metadata store's story, told once and run on both engines: a temp SQLite
//! file, and a fresh database on the machine's PostgreSQL.

use crate::common::*;
use sauve::domain::{Backup, JobSpec, RunKind, RunState, SourceSpec, Trigger};
use sauve::store::{
    BackupFilter, CancelOutcome, DeliveryAttempt, DeliveryFilter, Engine, Heartbeat, HistoryTable,
    NewBackup, NewDelivery, NewRun, RowState, RunFilter, Store, StoreError,
};

fn spec(name: &str, dest: &str) -> JobSpec {
    JobSpec::new(
        name,
        SourceSpec::Uri("sqlite:///srv/app.db".into()),
        vec![dest.into()],
    )
}

fn backup(id: &str, job: &str, run_id: &str, dest: &str, at_ms: i64) -> NewBackup {
    NewBackup {
        backup: Backup {
            id: id.into(),
            job: job.into(),
            run_id: Some(run_id.into()),
            created_at: jiff::Timestamp::from_millisecond(at_ms).unwrap(),
            size: 10,
            raw_size: 40,
            sha256: "ab".repeat(32),
            destination: dest.into(),
            key: format!("{job}/{id}.zst"),
            source_kind: "sqlite".into(),
            compression: "zstd-3".into(),
            encrypted: false,
            verified_at: None,
            damaged_at: None,
            test_restored_at: None,
            test_restore: None,
            verify_error: None,
        },
        manifest_json: format!("{{\"backup_id\":\"{id}\"}}"),
    }
}

async fn story(store: Store) {
    // Jobs: create, refuse duplicates, upsert, list, delete.
    let job = store
        .create_job(&spec("app-db", "file:///a"))
        .await
        .unwrap();
    assert_eq!(
        job.spec.destination_uris().collect::<Vec<_>>(),
        ["file:///a"]
    );
    assert!(matches!(
        store.create_job(&spec("app-db", "file:///b")).await,
        Err(StoreError::JobExists(_))
    ));
    let (updated, created) = store
        .upsert_job(&spec("app-db", "file:///b"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(updated.id, job.id, "an update keeps the job's identity");
    assert_eq!(
        updated.spec.destination_uris().collect::<Vec<_>>(),
        ["file:///b"]
    );
    let (_, created) = store.upsert_job(&spec("files", "file:///b")).await.unwrap();
    assert!(created);
    let names: Vec<_> = store
        .jobs()
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.name)
        .collect();
    assert_eq!(names, ["app-db", "files"]);

    // Runs: start, finish once, fetch by prefix, filter.
    let claim = store
        .start_claimed_run(
            &NewRun::backup(&updated, Trigger::Manual, 1),
            "test:1",
            60_000,
        )
        .await
        .unwrap();
    let run = claim.run.clone();
    assert_eq!(run.state, RunState::Running);
    assert_eq!(run.kind, RunKind::Backup);
    assert!(run.started_at.is_some());
    let long_log = "x".repeat(200_000);
    assert!(
        store
            .finish_claimed(&claim, RunState::Succeeded, (40, 10), None, &long_log, &[])
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_claimed(&claim, RunState::Failed, (0, 0), Some("late"), "", &[])
            .await
            .unwrap(),
        "a finished run cannot be finished again"
    );
    let got = store.run(&run.id[..10]).await.unwrap();
    assert_eq!(got.state, RunState::Succeeded);
    assert_eq!((got.bytes_in, got.bytes_out), (40, 10));
    assert!(got.log.len() < 70_000, "logs are capped");
    let failed = store
        .start_claimed_run(
            &NewRun {
                kind: RunKind::Restore,
                ..NewRun::backup(&updated, Trigger::Manual, 1)
            },
            "test:1",
            60_000,
        )
        .await
        .unwrap();
    assert_eq!(failed.run.kind, RunKind::Restore);
    store
        .finish_claimed(&failed, RunState::Failed, (0, 0), Some("boom"), "log", &[])
        .await
        .unwrap();
    let restores = store
        .runs(&RunFilter {
            kind: Some(RunKind::Restore),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(restores.len(), 1);
    let only_failed = store
        .runs(&RunFilter {
            state: Some(RunState::Failed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only_failed.len(), 1);
    assert_eq!(only_failed[0].error.as_deref(), Some("boom"));
    let all = store.runs(&RunFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, failed.run.id, "newest first");
    // Both ids share a time prefix: a short prefix is ambiguous, not a guess.
    assert!(matches!(
        store.run("0").await,
        Err(StoreError::Ambiguous { .. })
    ));
    assert!(matches!(
        store.run("%").await,
        Err(StoreError::NotFound { .. })
    ));

    // Backups: record, filter, fetch with manifest, delete.
    store
        .insert_backup(&backup("01aaa", "app-db", &run.id, "file:///a", 1_000))
        .await
        .unwrap();
    store
        .insert_backup(&backup("01bbb", "app-db", &run.id, "file:///b", 2_000))
        .await
        .unwrap();
    store
        .insert_backup(&backup("01ccc", "files", &run.id, "file:///b", 3_000))
        .await
        .unwrap();
    let app = store
        .backups(&BackupFilter {
            job: Some("app-db".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        app.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["01bbb", "01aaa"]
    );
    let at_b = store
        .backups(&BackupFilter {
            destination: Some("file:///b".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(at_b.len(), 2);
    let (b, manifest) = store.backup("01aa").await.unwrap();
    assert_eq!(
        b,
        backup("01aaa", "app-db", &run.id, "file:///a", 1_000).backup
    );
    assert!(manifest.contains("01aaa"));
    assert_eq!(store.backups_of_run(&run.id).await.unwrap().len(), 3);
    store.mark_backup_deleted("01aaa").await.unwrap();
    assert!(matches!(
        store.backup("01aaa").await,
        Err(StoreError::NotFound { .. })
    ));

    // Deleting a job keeps its history.
    store.delete_job("app-db").await.unwrap();
    assert!(matches!(
        store.job("app-db").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_job("app-db").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.runs(&RunFilter::default()).await.unwrap().len(), 2);
    store.ping().await.unwrap();
}

/// The queue's rules, on one engine.
async fn queue_story(store: Store) {
    let job = store.create_job(&spec("q", "file:///a")).await.unwrap();
    let other = store.create_job(&spec("other", "file:///a")).await.unwrap();
    let slot = 1_790_000_000_000;

    // Enqueue-once, per slot and per idempotency key, even when raced.
    let (r1, created) = store
        .enqueue(&NewRun {
            scheduled_for: Some(slot),
            ..NewRun::backup(&job, Trigger::Schedule, 3)
        })
        .await
        .unwrap();
    assert!(created);
    let (again, created) = store
        .enqueue(&NewRun {
            scheduled_for: Some(slot),
            ..NewRun::backup(&job, Trigger::Schedule, 3)
        })
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, r1.id);
    assert_eq!(r1.scheduled_for.unwrap().as_millisecond(), slot);
    let racers = (0..20).map(|_| {
        let (store, job) = (store.clone(), job.clone());
        tokio::spawn(async move {
            store
                .enqueue(&NewRun {
                    idempotency_key: Some("click-1"),
                    ..NewRun::backup(&job, Trigger::Manual, 3)
                })
                .await
                .unwrap()
        })
    });
    let results: Vec<_> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        results.iter().filter(|(_, created)| *created).count(),
        1,
        "one run for 20 requests"
    );
    let keyed = results[0].0.id.clone();
    assert!(results.iter().all(|(r, _)| r.id == keyed));

    // One run of a job at a time: the second queued run of `q` waits.
    let c1 = store
        .claim("w1", 60_000, None)
        .await
        .unwrap()
        .expect("a run is due");
    assert_eq!((c1.run.id.as_str(), c1.attempt), (r1.id.as_str(), 1));
    assert_eq!(c1.run.owner.as_deref(), Some("w1"));
    assert!(
        store.claim("w2", 60_000, None).await.unwrap().is_none(),
        "q is busy, nothing else is due"
    );
    assert!(matches!(
        store
            .start_claimed_run(&NewRun::backup(&job, Trigger::Manual, 1), "cli", 60_000)
            .await,
        Err(StoreError::AlreadyRunning(_))
    ));
    assert_eq!(
        store.heartbeat(&c1, 60_000).await.unwrap(),
        Heartbeat::Held { cancel: false }
    );

    // Fencing: a claim with the wrong attempt or owner changes nothing.
    let mut stale = c1.clone();
    stale.attempt += 1;
    assert!(
        !store
            .finish_claimed(&stale, RunState::Succeeded, (1, 1), None, "", &[])
            .await
            .unwrap()
    );
    stale = c1.clone();
    stale.owner = "w9".into();
    assert_eq!(
        store.heartbeat(&stale, 60_000).await.unwrap(),
        Heartbeat::Lost
    );

    // A failed attempt goes back to the queue and is claimed again as attempt 2.
    assert!(
        store
            .retry_later(&c1, 0, "boom", "attempt 1 failed")
            .await
            .unwrap()
    );
    let c2 = store
        .claim("w2", 60_000, None)
        .await
        .unwrap()
        .expect("the retry is due");
    assert_eq!((c2.run.id.as_str(), c2.attempt), (r1.id.as_str(), 2));
    assert!(
        !store
            .finish_claimed(&c1, RunState::Succeeded, (1, 1), None, "", &[])
            .await
            .unwrap(),
        "old claim is fenced"
    );
    assert!(
        store
            .finish_claimed(&c2, RunState::Succeeded, (5, 2), None, "ok", &[])
            .await
            .unwrap()
    );
    assert_eq!(store.run(&r1.id).await.unwrap().state, RunState::Succeeded);

    // A dead worker's lease expires: requeued with back-off while attempts remain…
    let c3 = store
        .claim("dead", 1, None)
        .await
        .unwrap()
        .expect("the keyed run");
    assert_eq!(c3.run.id, keyed);
    // Kept: the 1 ms lease lapsing is what is tested, and only the clock can do
    // that; 30 ms is thirty leases. (Polling expire_leases instead would change
    // what is asserted: that one call after the lease expires it.)
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let expired = store.expire_leases(|_| 0).await.unwrap();
    assert_eq!((expired.requeued, expired.failed), (1, 0));
    assert_eq!(store.heartbeat(&c3, 60_000).await.unwrap(), Heartbeat::Lost);
    assert!(
        store
            .run(&keyed)
            .await
            .unwrap()
            .log
            .contains("lease of dead expired")
    );
    // …and failed once they are spent.
    let (last, _) = store
        .enqueue(&NewRun::backup(&other, Trigger::Manual, 1))
        .await
        .unwrap();
    let mut claimed = Vec::new();
    while let Some(c) = store.claim("dead", 1, None).await.unwrap() {
        claimed.push(c.run.id);
    }
    assert!(
        claimed.contains(&last.id) && claimed.contains(&keyed),
        "{claimed:?}"
    );
    // Kept, as above: these 1 ms leases must lapse.
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let expired = store.expire_leases(|_| 0).await.unwrap();
    assert_eq!(expired.failed, 1);
    let failed = store.run(&last.id).await.unwrap();
    assert_eq!(failed.state, RunState::Failed);
    assert!(failed.error.unwrap().contains("lease expired"));

    // Cancel: a queued run at once, a running one through its worker.
    let (queued, _) = store
        .enqueue(&NewRun {
            idempotency_key: Some("c"),
            ..NewRun::backup(&other, Trigger::Manual, 3)
        })
        .await
        .unwrap();
    let (_, outcome) = store.cancel_run(&queued.id).await.unwrap();
    assert_eq!(outcome, CancelOutcome::Cancelled);
    let running = store
        .start_claimed_run(&NewRun::backup(&other, Trigger::Manual, 1), "cli", 60_000)
        .await
        .unwrap();
    let (_, outcome) = store.cancel_run(&running.run.id).await.unwrap();
    assert_eq!(outcome, CancelOutcome::Requested);
    assert_eq!(
        store.heartbeat(&running, 60_000).await.unwrap(),
        Heartbeat::Held { cancel: true }
    );
    assert!(
        store
            .finish_claimed(
                &running,
                RunState::Cancelled,
                (0, 0),
                Some("cancelled"),
                "",
                &[]
            )
            .await
            .unwrap()
    );
    let (_, outcome) = store.cancel_run(&running.run.id).await.unwrap();
    assert_eq!(outcome, CancelOutcome::AlreadyFinished(RunState::Cancelled));

    // Schedule state: due jobs, and a compare-and-set that only one instance wins.
    let now = store.db_now().await.unwrap();
    store
        .set_next_fire(&job.id, Some(now - 1000))
        .await
        .unwrap();
    let due = store.due_jobs(now).await.unwrap();
    assert_eq!(
        due.iter()
            .map(|(j, at)| (j.name.as_str(), *at))
            .collect::<Vec<_>>(),
        [("q", now - 1000)]
    );
    assert!(
        store
            .advance_next_fire(&job.id, now - 1000, Some(now + 5000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .advance_next_fire(&job.id, now - 1000, Some(now + 9000))
            .await
            .unwrap()
    );
    assert!(store.due_jobs(now).await.unwrap().is_empty());
    // The keyed run expired twice and waits in the queue for its third attempt.
    assert_eq!(store.queue_depth().await.unwrap(), 1);
    assert_eq!(store.run(&keyed).await.unwrap().attempt, 2);
}

/// Many workers claiming at once: every run is taken exactly once.
/// Which kinds of run may run together for one job (`RunKind::conflicts_with`),
/// as the queue applies it: a backup waits for a running restore of its job and
/// the other way round; a verify runs beside either.
/// The trash: live → trash → purged, or back to live; each move a
/// compare-and-set, and a backup being read is visible to every instance.
async fn trash_story(store: Store) {
    let job = store.create_job(&spec("rot", "file:///t")).await.unwrap();
    for (i, id) in ["01t1", "01t2", "01t3"].iter().enumerate() {
        store
            .insert_backup(&backup(id, "rot", "r", "file:///t", 1_000 + i as i64))
            .await
            .unwrap();
    }
    assert!(!store.has_trash("rot").await.unwrap());
    assert!(
        store
            .trash_backup("01t1", 5_000, 6_000, "policy")
            .await
            .unwrap()
    );
    assert!(
        !store
            .trash_backup("01t1", 5_000, 6_000, "again")
            .await
            .unwrap(),
        "a trashed backup is not trashed twice"
    );
    assert!(
        store
            .trash_backup("01t2", 5_000, 9_000, "policy")
            .await
            .unwrap()
    );
    assert!(store.has_trash("rot").await.unwrap());
    let live = store
        .backups(&BackupFilter {
            job: Some("rot".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        live.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["01t3"]
    );
    assert!(matches!(
        store.backup("01t1").await,
        Err(StoreError::NotFound { .. })
    ));
    let trash = store.trashed(Some("rot"), 10).await.unwrap();
    assert_eq!(trash.len(), 2);
    assert_eq!(
        (trash[0].backup.id.as_str(), trash[0].reason.as_str()),
        ("01t2", "policy")
    );
    // Due at 7 s: only the first.
    let due = store.due_purges("rot", 7_000).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].0.backup.id, "01t1");
    assert!(due[0].1.contains("01t1"), "with its manifest");
    store.set_purge_error("01t1", "disk on fire").await.unwrap();
    assert_eq!(
        store.trashed(Some("rot"), 10).await.unwrap()[1]
            .purge_error
            .as_deref(),
        Some("disk on fire")
    );
    // Undelete by prefix: live again, out of the trash.
    assert_eq!(store.undelete("01t2").await.unwrap().id, "01t2");
    assert!(store.backup("01t2").await.is_ok());
    assert!(matches!(
        store.undelete("01t3").await,
        Err(StoreError::NotFound { .. })
    ));
    // A purge claims its backup first: from then on undelete is refused (its
    // manifest may be gone), and only one claim records it done.
    assert!(
        !store.claim_purge("01t2", 7_000).await.unwrap(),
        "not in the trash"
    );
    assert!(store.claim_purge("01t1", 7_000).await.unwrap());
    assert!(
        store.claim_purge("01t1", 7_500).await.unwrap(),
        "a retry claims it again"
    );
    assert!(matches!(
        store.undelete("01t1").await,
        Err(StoreError::PurgeStarted(_))
    ));
    assert!(store.mark_purged("01t1", 8_000).await.unwrap());
    assert!(
        !store.mark_purged("01t1", 8_000).await.unwrap(),
        "recorded once"
    );
    assert!(
        !store.mark_purged("01t3", 8_000).await.unwrap(),
        "a live backup is never marked purged"
    );
    assert!(store.backup("01t3").await.is_ok());
    assert!(store.due_purges("rot", 99_000).await.unwrap().is_empty());
    assert!(matches!(
        store.undelete("01t1").await,
        Err(StoreError::NotFound { .. })
    ));
    let states: Vec<(String, RowState)> = store
        .rows_at("file:///t", Some("rot"))
        .await
        .unwrap()
        .into_iter()
        .map(|(b, s, _)| (b.id, s))
        .collect();
    assert_eq!(
        states,
        [
            ("01t1".to_string(), RowState::Purged),
            ("01t2".to_string(), RowState::Live),
            ("01t3".to_string(), RowState::Live)
        ]
    );
    // A queued verify of a backup holds it against the purge.
    let params = sauve::domain::RunParams::Verify {
        backup: sauve::domain::BackupLocator {
            id: "01t3".into(),
            destination: None,
        },
        keys: Default::default(),
    };
    assert!(!store.backup_in_use("01t3").await.unwrap());
    store
        .enqueue(&NewRun {
            kind: RunKind::Verify,
            params: Some(serde_json::to_string(&params).unwrap()),
            idempotency_key: Some("v-t3"),
            ..NewRun::backup(&job, Trigger::Manual, 1)
        })
        .await
        .unwrap();
    assert!(store.backup_in_use("01t3").await.unwrap());
    assert!(!store.backup_in_use("01t2").await.unwrap());
    assert!(
        !store.backup_in_use("%").await.unwrap(),
        "no pattern widening"
    );
}

async fn kinds_story(store: Store) {
    let job = store.create_job(&spec("kinds", "file:///a")).await.unwrap();
    let restore = |key| NewRun {
        kind: RunKind::Restore,
        idempotency_key: Some(key),
        ..NewRun::backup(&job, Trigger::Manual, 1)
    };
    let (restore_run, _) = store.enqueue(&restore("r1")).await.unwrap();
    // Runs of other jobs may be queued on this store: claim by id.
    let claim = |id: String| {
        let store = store.clone();
        async move { store.claim("w", 60_000, Some(&id)).await.unwrap() }
    };
    // A run of `kind` started in the foreground (as the CLI does), and one queued.
    let start = |kind: RunKind| {
        let (store, job) = (store.clone(), job.clone());
        async move {
            store
                .start_claimed_run(
                    &NewRun {
                        kind,
                        ..NewRun::backup(&job, Trigger::Manual, 1)
                    },
                    "cli",
                    60_000,
                )
                .await
        }
    };
    let queue = |kind: RunKind, key: &'static str| {
        let (store, job) = (store.clone(), job.clone());
        async move {
            store
                .enqueue(&NewRun {
                    kind,
                    idempotency_key: Some(key),
                    ..NewRun::backup(&job, Trigger::Manual, 1)
                })
                .await
                .unwrap()
                .0
        }
    };
    let claimed = claim(restore_run.id.clone()).await.unwrap();
    assert_eq!(
        (claimed.run.id.as_str(), claimed.run.kind),
        (restore_run.id.as_str(), RunKind::Restore)
    );
    let backup_run = queue(RunKind::Backup, "b1").await;
    let verify_run = queue(RunKind::Verify, "v1").await;
    assert!(
        claim(backup_run.id.clone()).await.is_none(),
        "the backup waits for the restore"
    );
    let next = claim(verify_run.id.clone())
        .await
        .expect("the verify runs beside the restore");
    assert!(
        store.job_busy(&job.id).await.unwrap(),
        "a running restore makes a backup wait"
    );
    assert!(matches!(
        start(RunKind::Backup).await,
        Err(StoreError::AlreadyRunning(_))
    ));
    // A second verify may start in the foreground beside the first.
    let second_verify = start(RunKind::Verify).await.unwrap();
    for c in [&claimed, &next, &second_verify] {
        assert!(
            store
                .finish_claimed(c, RunState::Succeeded, (0, 0), None, "", &[])
                .await
                .unwrap()
        );
    }
    // A prune never runs beside a verify (it could delete what it reads),
    // nor beside another prune; beside a backup it may.
    let verify_again = start(RunKind::Verify).await.unwrap();
    let prune_run = queue(RunKind::Prune, "p1").await;
    assert!(
        claim(prune_run.id.clone()).await.is_none(),
        "the prune waits for the verify"
    );
    store
        .finish_claimed(&verify_again, RunState::Succeeded, (0, 0), None, "", &[])
        .await
        .unwrap();
    let pruning = claim(prune_run.id.clone()).await.expect("then it runs");
    assert!(matches!(
        start(RunKind::Prune).await,
        Err(StoreError::AlreadyRunning(_))
    ));
    let after = claim(backup_run.id.clone())
        .await
        .expect("the backup starts once the restore ended, beside the prune");
    store
        .finish_claimed(&pruning, RunState::Succeeded, (0, 0), None, "", &[])
        .await
        .unwrap();
    store
        .finish_claimed(&after, RunState::Succeeded, (0, 0), None, "", &[])
        .await
        .unwrap();
}

async fn concurrent_claims(store: Store) {
    let mut expected = Vec::new();
    // (Runs left queued by earlier steps may be claimed too; they count as well.)
    for i in 0..10 {
        let job = store
            .create_job(&spec(&format!("c{i}"), "file:///a"))
            .await
            .unwrap();
        expected.push(
            store
                .enqueue(&NewRun::backup(&job, Trigger::Manual, 1))
                .await
                .unwrap()
                .0
                .id,
        );
    }
    let workers = (0..20).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            for _ in 0..3 {
                if let Some(c) = store.claim(&format!("w{w}"), 60_000, None).await.unwrap() {
                    mine.push(c.run.id);
                }
            }
            mine
        })
    });
    let mut got: Vec<String> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();
    got.sort();
    let unique: std::collections::BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "no run claimed twice: {got:?}");
    for id in &expected {
        assert!(unique.contains(id), "run {id} was never claimed");
    }
}

/// Users, tokens, sessions and the audit log, on one engine.
async fn access_story(store: Store) {
    use sauve::auth::{Role, Scope, secret_hash};
    let alice = store
        .create_user("alice", Role::Admin, "$argon2id$fake")
        .await
        .unwrap();
    assert!(matches!(
        store.create_user("alice", Role::Viewer, "x").await,
        Err(StoreError::UserExists(_))
    ));
    store.create_user("vic", Role::Viewer, "h").await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 2);
    assert_eq!(store.user("vic").await.unwrap().role, Role::Viewer);

    let t = store
        .create_token("ci", &[Scope::BackupsRead], &secret_hash("s1"), None)
        .await
        .unwrap();
    assert_eq!(t.scopes, [Scope::BackupsRead]);
    let found = store
        .token_by_hash(&secret_hash("s1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, t.id);
    assert!(
        store
            .token_by_hash(&secret_hash("s2"))
            .await
            .unwrap()
            .is_none()
    );
    store.revoke_token("ci").await.unwrap();
    assert!(
        store
            .token_by_hash(&secret_hash("s1"))
            .await
            .unwrap()
            .is_none(),
        "revoked tokens stop working"
    );
    assert!(matches!(
        store.revoke_token("ci").await,
        Err(StoreError::NotFound { .. })
    ));

    store
        .create_session(&alice, &secret_hash("cookie"), "csrf", 60_000)
        .await
        .unwrap();
    let s = store
        .session(&secret_hash("cookie"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (s.user.name.as_str(), s.csrf_token.as_str()),
        ("alice", "csrf")
    );
    store
        .create_session(&alice, &secret_hash("old"), "c2", -1)
        .await
        .unwrap();
    assert!(
        store.session(&secret_hash("old")).await.unwrap().is_none(),
        "expired sessions are refused"
    );
    store.set_password("alice", "$argon2id$new").await.unwrap();
    assert!(
        store
            .session(&secret_hash("cookie"))
            .await
            .unwrap()
            .is_none(),
        "a new password ends sessions"
    );

    store
        .audit(
            "user:alice",
            "job.create",
            Some("app-db"),
            None,
            Some("127.0.0.1"),
        )
        .await
        .unwrap();
    store
        .audit(
            "token:ci",
            "backup.run",
            Some("app-db"),
            Some("run 01x"),
            None,
        )
        .await
        .unwrap();
    let log = store.audit_log(10, None).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["backup.run", "job.create"]
    );
    let older = store.audit_log(10, Some(&log[0].id)).await.unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].ip.as_deref(), Some("127.0.0.1"));
}

fn delivery(key: &str, channel: &str, run: &str) -> NewDelivery {
    NewDelivery {
        event_key: key.into(),
        channel: channel.into(),
        channel_kind: "webhook".into(),
        event: "run.failed".into(),
        job: Some("app".into()),
        run_id: Some(run.into()),
        payload: "{}".into(),
    }
}

fn attempt(n: i64, ok: bool) -> DeliveryAttempt {
    DeliveryAttempt {
        attempt: n,
        at: jiff::Timestamp::now(),
        ok,
        status: Some(if ok { 200 } else { 503 }),
        error: (!ok).then(|| "answered HTTP 503".to_string()),
        duration_ms: 5,
    }
}

/// The notifications outbox: health moved by compare-and-set with its
/// deliveries, one row per (event, channel), claims fenced and leased.
async fn outbox_story(store: Store) {
    use sauve::policy::alerts::Health;
    let (h, version) = store.health("app").await.unwrap();
    assert_eq!((h, version), (Health::default(), None));
    let seen = Health {
        seen: Some((10, "r1".into())),
        ..Health::default()
    };
    let first = [delivery("run.failed:app:r1", "webhook+https://a/x", "r1")];
    assert!(
        store
            .save_health("app", None, &seen, &first, &[])
            .await
            .unwrap()
    );
    // A second instance that read "nothing saved yet" loses, and queues nothing.
    let dup = [delivery("run.failed:app:r1", "webhook+https://b/x", "r1")];
    assert!(
        !store
            .save_health("app", None, &seen, &dup, &[])
            .await
            .unwrap()
    );
    let (h, version) = store.health("app").await.unwrap();
    assert_eq!((h.seen.clone(), version), (seen.seen.clone(), Some(0)));
    assert!(
        !store
            .save_health("app", Some(7), &seen, &dup, &[])
            .await
            .unwrap()
    );
    // Two instances with the same version: exactly one moves it.
    let (a, b) = tokio::join!(
        store.save_health("app", Some(0), &seen, &[], &[]),
        store.save_health("app", Some(0), &seen, &[], &[])
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one compare-and-set wins");
    assert_eq!(store.health("app").await.unwrap().1, Some(1));
    // The same key to the same channel is one row, whoever queues it.
    assert_eq!(store.queue_deliveries(&first).await.unwrap(), 0);
    assert_eq!(
        store
            .queue_deliveries(&[delivery("run.failed:app:r1", "ntfy://n/t", "r1")])
            .await
            .unwrap(),
        1
    );
    let all = store
        .deliveries(&DeliveryFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().all(|d| d.state == "pending" && d.attempts == 0));

    // Claims: each delivery to one sender; a failed attempt goes back with
    // its delay; the second attempt is fenced by its attempt number.
    let d1 = store
        .claim_delivery("a", 60_000, Some("r1"))
        .await
        .unwrap()
        .unwrap();
    let d2 = store
        .claim_delivery("b", 60_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(d1.id, d2.id);
    assert!(
        store
            .claim_delivery("c", 60_000, None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .finish_delivery(&d1, &attempt(1, false), Some(0))
            .await
            .unwrap()
    );
    let again = store
        .claim_delivery("a", 60_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id.clone(), again.attempts), (d1.id.clone(), 2));
    // The first claim's record of the same delivery is stale: refused.
    assert!(
        !store
            .finish_delivery(&d1, &attempt(1, true), None)
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_delivery(&again, &attempt(2, true), None)
            .await
            .unwrap()
    );
    // A sender that died: its lease expires and another takes the delivery.
    let expired = [delivery("run.failed:app:r9", "webhook+https://a/x", "r9")];
    store.queue_deliveries(&expired).await.unwrap();
    let dead = store
        .claim_delivery("dead", 1, Some("r9"))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let taken = store
        .claim_delivery("alive", 60_000, Some("r9"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id.clone(), taken.attempts), (dead.id.clone(), 2));
    assert!(
        !store
            .finish_delivery(&dead, &attempt(1, true), None)
            .await
            .unwrap()
    );
    // Every attempt spent: failed for good, each attempt kept.
    assert!(
        store
            .finish_delivery(&taken, &attempt(2, false), None)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_delivery("x", 60_000, Some("r9"))
            .await
            .unwrap()
            .is_none()
    );
    let sent = store.delivery_attempts(&d1.id).await.unwrap();
    assert_eq!(
        sent.iter().map(|a| (a.attempt, a.ok)).collect::<Vec<_>>(),
        [(1, false), (2, true)]
    );
    assert_eq!(sent[0].status, Some(503));
    let states = |state: &str| {
        let store = store.clone();
        let state = state.to_string();
        async move {
            store
                .deliveries(&DeliveryFilter {
                    state: Some(state),
                    limit: 10,
                    ..Default::default()
                })
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(states("sent").await, 1);
    assert_eq!(states("failed").await, 1);
    assert_eq!(states("sending").await, 1, "d2 is still being sent by b");
    let failed = &store
        .deliveries(&DeliveryFilter {
            state: Some("failed".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(failed.last_status, Some(503));
    assert_eq!(failed.last_error.as_deref(), Some("answered HTTP 503"));
    assert_eq!(store.all_health().await.unwrap().len(), 1);
}

#[tokio::test]
async fn outbox_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    outbox_story(
        Store::connect(&Store::default_url(dir.path()))
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn outbox_story_on_postgres() {
    let db = PgDb::create("sauve_outbox");
    let store = Store::connect(&pg_url(&db.0)).await.unwrap();
    outbox_story(store.clone()).await;
    store.close().await;
}

#[tokio::test]
async fn access_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    access_story(
        Store::connect(&Store::default_url(dir.path()))
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn access_story_on_postgres() {
    let db = PgDb::create("sauve_access");
    let store = Store::connect(&pg_url(&db.0)).await.unwrap();
    access_story(store.clone()).await;
    store.close().await;
}

/// Every list of runs and of backups, with every filter and with a cursor,
/// is served by an index in the list's order: a page reads what it shows,
/// never the whole history, and never sorts it. On PostgreSQL sequential
/// scans and sorts are priced out, so one left in a plan means no index fits.
async fn every_list_reads_an_index_in_its_order(store: Store) {
    let job = || Some("small".to_string());
    let cursor = || Some("01kbz00000000000000000000a".to_string());
    let check = |what: String, plan: String, table: &str, filtered: bool| match store.engine() {
        Engine::Sqlite => {
            assert!(!plan.contains("TEMP B-TREE"), "{what} sorts: {plan}");
            if filtered {
                assert!(
                    plan.contains(&format!("SEARCH {table} USING")),
                    "{what} scans: {plan}"
                );
            }
        }
        Engine::Postgres => {
            assert!(!plan.contains("Seq Scan"), "{what} scans: {plan}");
            assert!(!plan.contains("Sort"), "{what} sorts: {plan}");
        }
    };
    let states = [None, Some(RunState::Failed)];
    let kinds = [None, Some(RunKind::Backup)];
    for job in [None, job()] {
        for state in states {
            for kind in kinds {
                for before_id in [None, cursor()] {
                    let filter = RunFilter {
                        job: job.clone(),
                        state,
                        kind,
                        before_id: before_id.clone(),
                        limit: 50,
                    };
                    let filtered = job.is_some() || state.is_some() || kind.is_some();
                    let plan = store.runs_plan(&filter).await.unwrap();
                    check(format!("{filter:?}"), plan, "runs", filtered);
                }
            }
        }
    }
    for job in [None, job()] {
        for destination in [None, Some("file:///b".to_string())] {
            for before_id in [None, cursor()] {
                let filter = BackupFilter {
                    job: job.clone(),
                    destination: destination.clone(),
                    before_id,
                    limit: 50,
                };
                let filtered = job.is_some() || destination.is_some();
                let plan = store.backups_plan(&filter).await.unwrap();
                check(format!("{filter:?}"), plan, "backups", filtered);
            }
        }
    }
    // The page's glance: a subquery per job and field, each through an index
    // of runs or backups (jobs, a few dozen rows, are read whole).
    let plan = store.glance_plan().await.unwrap();
    let scans: Vec<&str> = plan
        .lines()
        .map(str::trim_start)
        .filter(|l| {
            (l.starts_with("SCAN ") && !l.starts_with("SCAN j "))
                || l.contains("Seq Scan on runs")
                || l.contains("Seq Scan on backups")
                || l.contains("TEMP B-TREE")
        })
        .collect();
    assert!(
        scans.is_empty(),
        "the glance scans or sorts: {scans:?} in\n{plan}"
    );
    // The page's pictures: ranges of keys and short walks, never a scan of
    // runs or backups, never a sort.
    for (what, p) in store.trends_plans().await.unwrap() {
        assert!(
            !p.contains("TEMP B-TREE")
                && !p.contains("Sort")
                && !p.contains("Seq Scan on runs")
                && !p.contains("Seq Scan on run_days")
                && !p.lines().any(|l| l.trim_start().starts_with("SCAN r ")
                    || l.trim_start().starts_with("SCAN o ")
                    || l.trim_start().starts_with("SCAN run_days")),
            "{what}: {p}"
        );
        // Each job's newest backups: a walk that stops, not the job's range.
        if what == "recent_backups" {
            assert!(
                p.contains("PRIMARY KEY") || p.contains("recent_backups_pkey"),
                "recent_backups is not read by its key: {p}"
            );
        }
    }
    for index in ["backups_verified_job", "backups_tested_job"] {
        assert!(
            plan.contains(index),
            "the glance does not read {index}: {plan}"
        );
    }
    for job in [None, Some("small")] {
        let plan = store.trashed_plan(job).await.unwrap();
        // Through the trash's own partial index, not a walk over every backup.
        assert!(
            plan.contains("backups_in_trash"),
            "the trash of {job:?}: {plan}"
        );
        check(
            format!("the trash of {job:?}"),
            plan,
            "backups",
            job.is_some(),
        );
    }
}

#[tokio::test]
async fn every_list_reads_an_index_in_its_order_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&Store::default_url(dir.path()))
        .await
        .unwrap();
    every_list_reads_an_index_in_its_order(store).await;
}

#[tokio::test]
async fn every_list_reads_an_index_in_its_order_on_postgres() {
    let db = PgDb::create("sauve_plans");
    let store = Store::connect(&pg_url(&db.0)).await.unwrap();
    every_list_reads_an_index_in_its_order(store.clone()).await;
    store.close().await;
}

/// History pruning deletes old finished runs, purged backups' rows and
/// settled deliveries, and keeps what must stay: runs of backups still stored
/// (live or in the trash), runs not finished, runs the alerting has not
/// folded, anything newer than the cutoff; the counters never go down.
async fn history_story(store: Store, url: &str) {
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(url).await.unwrap();
    let job = store.create_job(&spec("h", "file:///h")).await.unwrap();
    // Each run in turn: queued, claimed, finished as `state` with `backups`.
    // Backup ids are ULIDs, like every id the walk goes through.
    let (b_stored, b_purged, b_trashed) = (
        sauve::domain::new_id(),
        sauve::domain::new_id(),
        sauve::domain::new_id(),
    );
    let finish = async |state: RunState, backups: Vec<&str>| {
        let (run, _) = store
            .enqueue(&NewRun::backup(&job, Trigger::Manual, 1))
            .await
            .unwrap();
        let claim = store
            .claim("w", 60_000, Some(&run.id))
            .await
            .unwrap()
            .unwrap();
        let at = sauve::store::now_ms();
        let rows: Vec<NewBackup> = backups
            .iter()
            .map(|id| backup(id, "h", &run.id, "file:///h", at))
            .collect();
        assert!(
            store
                .finish_claimed(&claim, state, (40, 10), None, "", &rows)
                .await
                .unwrap()
        );
        run.id
    };
    let stored = finish(RunState::Succeeded, vec![&b_stored]).await;
    let purged = finish(RunState::Succeeded, vec![&b_purged]).await;
    let trashed = finish(RunState::Succeeded, vec![&b_trashed]).await;
    let failed = finish(RunState::Failed, vec![]).await;
    let unalerted = finish(RunState::Failed, vec![]).await;
    let recent = finish(RunState::Succeeded, vec![]).await;
    let (queued, _) = store
        .enqueue(&NewRun::backup(&job, Trigger::Manual, 1))
        .await
        .unwrap();
    // A run of a job deleted before its outcome was folded: nothing will
    // ever fold it, so it may go unalerted.
    let gone_job = store.create_job(&spec("gone", "file:///h")).await.unwrap();
    let (gone, _) = store
        .enqueue(&NewRun::backup(&gone_job, Trigger::Manual, 1))
        .await
        .unwrap();
    let claim = store
        .claim("w", 60_000, Some(&gone.id))
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .finish_claimed(&claim, RunState::Failed, (0, 0), None, "", &[])
            .await
            .unwrap()
    );
    store.delete_job("gone").await.unwrap();
    store.mark_backup_deleted(&b_purged).await.unwrap();
    let now = sauve::store::now_ms();
    assert!(
        store
            .trash_backup(&b_trashed, now, now + 1, "test")
            .await
            .unwrap()
    );
    sqlx::query("UPDATE runs SET alerted = 1 WHERE id <> $1 AND id <> $2")
        .bind(&unalerted)
        .bind(&gone.id)
        .execute(&raw)
        .await
        .unwrap();
    let later = now + 7_200_000;
    sqlx::query("UPDATE runs SET finished_at = $1 WHERE id = $2")
        .bind(later)
        .bind(&recent)
        .execute(&raw)
        .await
        .unwrap();
    // What the destination holds: the live and the trashed backup, not the
    // purged one; the day added three and removed one.
    let held = vec![sauve::store::StorageTotal {
        destination: "file:///h".into(),
        job: "h".into(),
        backups: 2,
        bytes: 20,
    }];
    assert_eq!(store.storage_totals().await.unwrap(), held);
    let today = now / 86_400_000;
    let days = store.storage_days(today - 1).await.unwrap();
    // (Summed: a test that runs across midnight UTC sees two days.)
    assert!(
        days.iter().all(|d| d.destination == "file:///h"),
        "{days:?}"
    );
    assert_eq!(
        days.iter()
            .fold((0, 0), |(a, r), d| (a + d.added, r + d.removed)),
        (30, 10),
        "{days:?}"
    );
    // The sparklines' runs: every succeeded backup run of the job, oldest first.
    let recent_runs = store.recent_backups().await.unwrap();
    assert_eq!(
        recent_runs
            .iter()
            .map(|r| r.run_id.as_str())
            .collect::<Vec<_>>(),
        vec![
            stored.as_str(),
            purged.as_str(),
            trashed.as_str(),
            recent.as_str()
        ]
    );
    assert!(
        recent_runs
            .iter()
            .all(|r| r.job == "h" && r.bytes_out == 10)
    );
    // Deliveries: one sent (goes), one pending (stays).
    store
        .queue_deliveries(&[
            delivery("k-sent", "webhook+https://a/", &failed),
            delivery("k-pending", "webhook+https://b/", &failed),
        ])
        .await
        .unwrap();
    let d = store
        .claim_delivery("a", 60_000, None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .finish_delivery(&d, &attempt(1, true), None)
            .await
            .unwrap()
    );
    // The counters /metrics reads were kept as each run finished.
    let m = store.metrics().await.unwrap();
    let totals_before = m.runs.clone();
    let count = |state: &str| {
        m.runs
            .iter()
            .find(|(j, k, s, _)| j == "h" && k == "backup" && s == state)
            .map(|r| r.3)
    };
    assert_eq!(
        (count("succeeded"), count("failed")),
        (Some(4), Some(2)),
        "{:?}",
        m.runs
    );
    assert!(
        m.last_success
            .iter()
            .any(|(j, at)| j == "h" && *at >= now - 60_000)
    );
    let bytes = m
        .histograms
        .iter()
        .find(|h| h.metric == "sauve_backup_bytes")
        .expect("the bytes histogram");
    assert_eq!(bytes.buckets.last(), Some(&(None, 4)), "{bytes:?}");
    assert_eq!(bytes.buckets.first(), Some(&(Some(1e6), 4)), "{bytes:?}");
    assert_eq!(bytes.sum, 40.0);
    assert_eq!(m.queued, 1);
    // And per day, for the page's pictures of recent weeks.
    let days = store
        .run_days(now / 86_400_000 - 1, "backup")
        .await
        .unwrap();
    let per_day = |state: &str| -> (i64, i64) {
        days.iter()
            .filter(|d| d.job == "h" && d.kind == "backup" && d.state == state)
            .fold((0, 0), |(n, b), d| (n + d.runs, b + d.bytes_out))
    };
    assert_eq!(per_day("succeeded"), (4, 40), "{days:?}");
    assert_eq!(per_day("failed").0, 2, "{days:?}");
    assert!(days.iter().all(|d| d.duration_ms >= 0));
    assert!(
        store
            .run_days(now / 86_400_000 + 2, "backup")
            .await
            .unwrap()
            .is_empty()
    );

    // Everything made so far is older than the cutoff, but for `recent`'s end.
    let cutoff = now + 3_600_000;
    let mut deleted = std::collections::HashMap::new();
    for table in HistoryTable::ALL {
        let mut after = String::new();
        let mut windows = 0;
        loop {
            // Windows of 2 rows: the walk must carry on past kept ones.
            let b = store
                .prune_history_batch(table, &after, cutoff, 2)
                .await
                .unwrap();
            *deleted.entry(table).or_insert(0) += b.deleted;
            match b.last_id {
                Some(id) => after = id,
                None => break,
            }
            windows += 1;
            assert!(windows < 20, "the walk of {table:?} does not end");
        }
    }
    assert_eq!(deleted[&HistoryTable::Runs], 3, "{deleted:?}");
    assert_eq!(deleted[&HistoryTable::PurgedBackups], 1, "{deleted:?}");
    assert_eq!(deleted[&HistoryTable::Deliveries], 1, "{deleted:?}");
    let left: Vec<String> = store
        .runs(&RunFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    for (id, what) in [
        (&stored, "a stored backup's run"),
        (&trashed, "a trashed backup's run"),
        (&unalerted, "a run the alerting has not folded"),
        (&recent, "a run newer than the cutoff"),
        (&queued.id, "a queued run"),
    ] {
        assert!(left.contains(id), "{what} was pruned");
    }
    for (id, what) in [
        (&purged, "a purged backup's run"),
        (&failed, "an old failed run"),
        (&gone.id, "an unfolded run of a deleted job"),
    ] {
        assert!(!left.contains(id), "{what} was kept");
    }
    let kept: Vec<String> = sqlx::query_scalar("SELECT id FROM backups ORDER BY id")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(kept, [b_stored.clone(), b_trashed.clone()]);
    let pending = store
        .deliveries(&DeliveryFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].state, "pending");
    let attempts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM delivery_attempts")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(attempts, 0, "the sent delivery's attempts went with it");
    assert_eq!(
        store.metrics().await.unwrap().runs,
        totals_before,
        "counters never go down"
    );
    assert_eq!(
        store.storage_totals().await.unwrap(),
        held,
        "pruning a purged backup's row changes nothing stored"
    );
    raw.close().await;
}

/// The sparklines' table keeps each job's 30 newest successful backup runs,
/// whatever finishes them, and nothing else.
async fn recent_story(store: Store) {
    let job = store.create_job(&spec("r", "file:///r")).await.unwrap();
    let mut good = Vec::new();
    for i in 0..33 {
        let (run, _) = store
            .enqueue(&NewRun::backup(&job, Trigger::Manual, 1))
            .await
            .unwrap();
        let claim = store
            .claim("w", 60_000, Some(&run.id))
            .await
            .unwrap()
            .unwrap();
        let state = if i % 11 == 5 {
            RunState::Failed
        } else {
            RunState::Succeeded
        };
        store
            .finish_claimed(&claim, state, (i, i), None, "", &[])
            .await
            .unwrap();
        if state == RunState::Succeeded {
            good.push(run.id);
        }
    }
    let kept: Vec<String> = store
        .recent_backups()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.job == "r")
        .map(|r| r.run_id)
        .collect();
    assert_eq!(
        kept,
        good[good.len() - 30..],
        "the 30 newest succeeded, oldest first"
    );
}

#[tokio::test]
async fn recent_backups_keep_each_jobs_30_newest_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    recent_story(
        Store::connect(&Store::default_url(dir.path()))
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn recent_backups_keep_each_jobs_30_newest_on_postgres() {
    let db = PgDb::create("sauve_recent");
    let store = Store::connect(&pg_url(&db.0)).await.unwrap();
    recent_story(store.clone()).await;
    store.close().await;
}

#[tokio::test]
async fn history_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::default_url(dir.path());
    history_story(Store::connect(&url).await.unwrap(), &url).await;
}

#[tokio::test]
async fn history_story_on_postgres() {
    let db = PgDb::create("sauve_history");
    let store = Store::connect(&pg_url(&db.0)).await.unwrap();
    history_story(store.clone(), &pg_url(&db.0)).await;
    store.close().await;
}

#[tokio::test]
async fn queue_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&Store::default_url(dir.path()))
        .await
        .unwrap();
    queue_story(store.clone()).await;
    kinds_story(store.clone()).await;
    concurrent_claims(store).await;
}

#[tokio::test]
async fn queue_story_on_postgres() {
    let db = PgDb::create("sauve_queue");
    let store = Store::connect(&pg_url(&db.0)).await.unwrap();
    queue_story(store.clone()).await;
    kinds_story(store.clone()).await;
    concurrent_claims(store.clone()).await;
    store.close().await;
}

#[tokio::test]
async fn store_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::default_url(dir.path());
    story(Store::connect(&url).await.unwrap()).await;
    trash_story(Store::connect(&url).await.unwrap()).await;
    // Migrations are idempotent: reopening keeps the data.
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.jobs().await.unwrap().len(), 2);
}

#[tokio::test]
async fn store_story_on_postgres() {
    let db = PgDb::create("sauve_store");
    let url = pg_url(&db.0);
    let store = Store::connect(&url).await.unwrap();
    story(store.clone()).await;
    trash_story(store.clone()).await;
    store.close().await;
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.jobs().await.unwrap().len(), 2);
    again.close().await;
}

#[tokio::test]
async fn unsupported_store_urls_are_refused_clearly() {
    let err = Store::connect("mysql://root@127.0.0.1/x")
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("not supported"), "{err}");
    let err = Store::connect("postgres://postgres:secret@127.0.0.1:1/x")
        .await
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("cannot open the metadata store") && !msg.contains("secret"),
        "{msg}"
    );
}

/// The schema as it was before notifications (migrations 0001–0006), with
/// jobs and runs, then 0007: existing jobs start from their history as
/// seen, so an upgrade replays no past failure to the channels.
#[test]
fn upgrading_seeds_each_jobs_health_from_its_history_on_both_engines() {
    use sauve::policy::alerts::Health;
    let before: Vec<&str> = (1..=6).map(|n| migration("sqlite", n)).collect();
    let data = "INSERT INTO jobs (id, name, spec, created_at, updated_at)
                VALUES ('j1', 'a', '{}', 1, 1), ('j2', 'b', '{}', 1, 1);
                INSERT INTO runs (id, job_id, job_name, trigger, state, queued_at, finished_at, kind)
                VALUES ('r1', 'j1', 'a', 'manual', 'succeeded', 1, 100, 'backup'),
                       ('r2', 'j1', 'a', 'manual', 'failed', 2, 200, 'backup'),
                       ('r3', 'j1', 'a', 'manual', 'succeeded', 3, 300, 'prune'),
                       ('r4', 'j1', 'a', 'manual', 'running', 4, NULL, 'backup');";
    let want = |health: &str, id: &str| {
        let h: Health =
            serde_json::from_str(health).unwrap_or_else(|e| panic!("{id}: {e}: {health}"));
        match id {
            "j1" => {
                assert_eq!(h.seen, Some((200, "r2".to_string())));
                assert_eq!(h.last_good_at, Some(100));
            }
            _ => assert_eq!(h, Health::default()),
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let db = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    for sql in &before {
        db.execute_batch(sql).unwrap();
    }
    db.execute_batch(data).unwrap();
    db.execute_batch(migration("sqlite", 7)).unwrap();
    let mut rows = db
        .prepare("SELECT job_id, health FROM job_health ORDER BY job_id")
        .unwrap();
    let got: Vec<(String, String)> = rows
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got.len(), 2);
    for (id, health) in &got {
        want(health, id);
    }
    // Every finished run is told already; the running one will be.
    let told: Vec<(String, i64)> = db
        .prepare("SELECT id, alerted FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let told_want = [("r1", 1), ("r2", 1), ("r3", 1), ("r4", 0)].map(|(r, a)| (r.to_string(), a));
    assert_eq!(told, told_want);

    let pg = PgDb::create("sauve_seed");
    for n in 1..=6 {
        psql(&pg.0, migration("postgres", n));
    }
    psql(&pg.0, data);
    psql(&pg.0, migration("postgres", 7));
    let out = psql(
        &pg.0,
        "SELECT job_id || '|' || health FROM job_health ORDER BY job_id",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in lines {
        let (id, health) = line.split_once('|').unwrap();
        want(health, id);
    }
    assert_eq!(
        psql(
            &pg.0,
            "SELECT string_agg(id || '=' || alerted, ',' ORDER BY id) FROM runs"
        ),
        "r1=1,r2=1,r3=1,r4=0"
    );
}

/// A migration's SQL, by engine and number.
fn migration(engine: &str, n: u32) -> &'static str {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    let prefix = format!("{n:04}_");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .unwrap_or_else(|| panic!("no migration {prefix} in {}", dir.display()));
    Box::leak(
        std::fs::read_to_string(file.path())
            .unwrap()
            .into_boxed_str(),
    )
}
