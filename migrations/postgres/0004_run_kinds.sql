-- Run kinds: every kind of work (backup, restore, verify, …) is a run in the one
-- queue. `kind` says what a run does, `trigger` only who asked; `params` holds
-- what a non-backup run works on (JSON, never a secret).
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'backup';
ALTER TABLE runs ADD COLUMN params TEXT;

-- The old one-running-run index excluded restores by their trigger: it goes
-- first, or rewriting their trigger below could collide with it.
DROP INDEX runs_one_running;

-- Restores used to be recorded as trigger 'restore'.
UPDATE runs SET kind = 'restore', trigger = 'manual' WHERE trigger = 'restore';
-- Those ran as detached tasks without a lease: one still `running` now belonged
-- to a process that is gone (this migration runs at start-up) and would stay
-- `running` forever.
UPDATE runs SET state = 'failed', finished_at = queued_at,
       error = 'the process running this restore stopped before it finished (recorded at upgrade)'
 WHERE kind = 'restore' AND state = 'running';

-- One running backup or restore per job, whatever the number of workers: the
-- kinds that conflict with themselves in RunKind::conflicts_with (the claim
-- applies the whole rule; this index closes the race between two claims).
CREATE UNIQUE INDEX runs_one_writer ON runs (job_id)
    WHERE state = 'running' AND kind IN ('backup', 'restore');
CREATE INDEX runs_kind ON runs (job_name, kind, state);
