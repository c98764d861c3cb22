-- Test restores: when each backup was last restored into a scratch target,
-- and what that found (the JSON report: tables and rows, files, checks).
ALTER TABLE backups ADD COLUMN test_restored_at BIGINT;
ALTER TABLE backups ADD COLUMN test_restore TEXT;

-- Every scratch target a test restore creates is written here first, so one
-- left by a process that died (its run no longer running) is found and
-- dropped by the next sweep. `location` says where (JSON, never a secret:
-- a password is named, as in the job).
CREATE TABLE scratch_targets (
    name TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
