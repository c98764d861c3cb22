-- The queue: when each scheduled job is next due, retry back-off, cancellation of
-- a running run from another process, and the rule that one job never runs twice
-- at once (restores are not backups and do not count).

ALTER TABLE jobs ADD COLUMN next_fire_at BIGINT;
CREATE INDEX jobs_next_fire ON jobs (next_fire_at);

ALTER TABLE runs ADD COLUMN not_before BIGINT;
ALTER TABLE runs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX runs_one_running ON runs (job_id) WHERE state = 'running' AND trigger <> 'restore';
