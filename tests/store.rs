//! The metadata store's story, told once and run on both engines: a temp SQLite
//! file, and a fresh database on the machine's PostgreSQL.

mod common;
use common::*;
use sauve::domain::{Backup, JobSpec, RunState, SourceSpec, Trigger};
use sauve::store::{BackupFilter, NewBackup, RunFilter, Store, StoreError};

fn spec(name: &str, dest: &str) -> JobSpec {
    JobSpec {
        name: name.into(),
        source: SourceSpec::Uri("sqlite:///srv/app.db".into()),
        destinations: vec![dest.into()],
        compression_level: None,
        encryption: None,
        schedule: None,
        timezone: None,
        overlap: None,
        catch_up: None,
        timeout: None,
        max_attempts: None,
    }
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
    assert_eq!(job.spec.destinations, ["file:///a"]);
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
    assert_eq!(updated.spec.destinations, ["file:///b"]);
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
    let run = store
        .start_foreground_run(&updated, Trigger::Manual, "test:1")
        .await
        .unwrap();
    assert_eq!(run.state, RunState::Running);
    assert!(run.started_at.is_some());
    let long_log = "x".repeat(200_000);
    assert!(
        store
            .finish_run(&run.id, RunState::Succeeded, 40, 10, None, &long_log)
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_run(&run.id, RunState::Failed, 0, 0, Some("late"), "")
            .await
            .unwrap(),
        "a finished run cannot be finished again"
    );
    let got = store.run(&run.id[..10]).await.unwrap();
    assert_eq!(got.state, RunState::Succeeded);
    assert_eq!((got.bytes_in, got.bytes_out), (40, 10));
    assert!(got.log.len() < 70_000, "logs are capped");
    let failed = store
        .start_foreground_run(&updated, Trigger::Restore, "test:1")
        .await
        .unwrap();
    store
        .finish_run(&failed.id, RunState::Failed, 0, 0, Some("boom"), "log")
        .await
        .unwrap();
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
    assert_eq!(all[0].id, failed.id, "newest first");
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

#[tokio::test]
async fn store_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::default_url(dir.path());
    story(Store::connect(&url).await.unwrap()).await;
    // Migrations are idempotent: reopening keeps the data.
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.jobs().await.unwrap().len(), 1);
}

#[tokio::test]
async fn store_story_on_postgres() {
    let db = PgDb::create("sauve_store");
    let url = pg_url(&db.0);
    let store = Store::connect(&url).await.unwrap();
    story(store.clone()).await;
    store.close().await;
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.jobs().await.unwrap().len(), 1);
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
