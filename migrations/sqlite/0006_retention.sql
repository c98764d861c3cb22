-- Retention: a backup a policy removes goes to the trash first (trashed_at,
-- with the instant it may be purged), and is purged after the grace period:
-- its objects deleted from storage, then deleted_at set. A purge that failed
-- half-way keeps its row in the trash with the error, and is retried.
--
-- live:    trashed_at IS NULL AND deleted_at IS NULL
-- trash:   trashed_at IS NOT NULL AND deleted_at IS NULL
--          (purge_started_at set: a purge has begun; it can only finish)
-- purged:  deleted_at IS NOT NULL
ALTER TABLE backups ADD COLUMN trashed_at BIGINT;
ALTER TABLE backups ADD COLUMN purge_after BIGINT;
ALTER TABLE backups ADD COLUMN trash_reason TEXT;
ALTER TABLE backups ADD COLUMN purge_error TEXT;
ALTER TABLE backups ADD COLUMN purge_started_at BIGINT;
CREATE INDEX backups_dest ON backups (job_name, destination, created_at);
CREATE INDEX backups_trash ON backups (job_name, purge_after)
    WHERE trashed_at IS NOT NULL AND deleted_at IS NULL;

-- One running prune per job, whatever the number of workers (the claim
-- applies RunKind::conflicts_with; this index closes the race of two claims).
CREATE UNIQUE INDEX runs_one_pruner ON runs (job_id)
    WHERE state = 'running' AND kind = 'prune';
