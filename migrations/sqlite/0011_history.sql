-- A year of history (issue 15): every list is read through an index in its
-- order, and /metrics reads counters kept as runs finish instead of
-- aggregating the whole history at each scrape.

-- The remaining filter combinations of the runs list. runs_kind was their
-- prefix; runs_job (by queued_at) is superseded by runs_job_newest.
DROP INDEX runs_kind;
DROP INDEX runs_job;
CREATE INDEX runs_job_kind_state_newest ON runs (job_name, kind, state, id);
CREATE INDEX runs_job_state_newest ON runs (job_name, state, id);
CREATE INDEX runs_kind_state_newest ON runs (kind, state, id);

-- Lists of live backups, newest first, by job, destination or both: partial
-- indexes, so a store holding years of purged rows walks only the live ones.
-- The WHERE is the store's LIVE clause, word for word (SQLite uses a partial
-- index only when the query repeats its terms).
CREATE INDEX backups_live_newest ON backups (id) WHERE trashed_at IS NULL AND deleted_at IS NULL;
CREATE INDEX backups_live_job ON backups (job_name, id) WHERE trashed_at IS NULL AND deleted_at IS NULL;
CREATE INDEX backups_live_dest ON backups (destination, id) WHERE trashed_at IS NULL AND deleted_at IS NULL;
CREATE INDEX backups_live_job_dest ON backups (job_name, destination, id) WHERE trashed_at IS NULL AND deleted_at IS NULL;
-- Each job's newest verified and newest test-restored backup (the page's
-- proof line): few rows each, so the walk stops at once even when most
-- backups were never verified.
CREATE INDEX backups_verified_job ON backups (job_name, id) WHERE verified_at IS NOT NULL;
CREATE INDEX backups_tested_job ON backups (job_name, id) WHERE test_restored_at IS NOT NULL;
-- The trash, newest first, all of it or by job (the same rule: store's IN_TRASH).
CREATE INDEX backups_in_trash ON backups (id) WHERE trashed_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX backups_in_trash_job ON backups (job_name, id) WHERE trashed_at IS NOT NULL AND deleted_at IS NULL;
-- History pruning asks, for each old run, whether a backup row still names it.
CREATE INDEX backups_run ON backups (run_id);

-- Finished runs by job, kind and state, counted as each run finishes (a
-- trigger below, so every path that finishes a run counts it, on every
-- instance, in the run's own transaction). Pruning history leaves them
-- alone: they are Prometheus counters and never go down.
CREATE TABLE run_totals (
    job_name          TEXT NOT NULL,
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL,
    n                 BIGINT NOT NULL,
    last_finished_at  BIGINT,
    PRIMARY KEY (job_name, kind, state)
);
-- The histograms of successful backups: cumulative bucket counts (le NULL
-- is +Inf) and sums. The bounds are here, once: /metrics prints the rows.
CREATE TABLE histogram_buckets (
    metric  TEXT NOT NULL,
    le      DOUBLE PRECISION,
    n       BIGINT NOT NULL
);
CREATE TABLE histogram_sums (
    metric  TEXT PRIMARY KEY,
    total   DOUBLE PRECISION NOT NULL
);

-- The same, per UTC day (Unix ms / 86,400,000) of the finish, with the bytes
-- stored and the time spent: what a day-by-day picture of a job reads (30
-- days of a job are at most a few dozen rows), never the runs themselves.
CREATE TABLE run_days (
    day          BIGINT NOT NULL,
    job_name     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    n            BIGINT NOT NULL,
    bytes_out    BIGINT NOT NULL,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (day, job_name, kind, state)
);

INSERT INTO run_totals (job_name, kind, state, n, last_finished_at)
SELECT job_name, kind, state, COUNT(*), MAX(finished_at) FROM runs
WHERE finished_at IS NOT NULL GROUP BY job_name, kind, state;

INSERT INTO run_days (day, job_name, kind, state, n, bytes_out, duration_ms)
SELECT finished_at / 86400000, job_name, kind, state, COUNT(*), SUM(bytes_out),
       SUM(COALESCE(finished_at - started_at, 0))
FROM runs WHERE finished_at IS NOT NULL
GROUP BY finished_at / 86400000, job_name, kind, state;

WITH bounds(le) AS (VALUES (1.0), (5.0), (15.0), (60.0), (300.0), (900.0), (1800.0), (3600.0),
                           (7200.0), (21600.0), (NULL))
INSERT INTO histogram_buckets (metric, le, n)
SELECT 'sauve_backup_duration_seconds', b.le,
       (SELECT COUNT(*) FROM runs r
        WHERE r.kind = 'backup' AND r.state IN ('succeeded', 'partial')
          AND r.started_at IS NOT NULL AND r.finished_at IS NOT NULL
          AND (b.le IS NULL OR (r.finished_at - r.started_at) / 1000.0 <= b.le))
FROM bounds b;

WITH bounds(le) AS (VALUES (1e6), (1e7), (1e8), (1e9), (1e10), (5e10), (1e11), (1e12), (NULL))
INSERT INTO histogram_buckets (metric, le, n)
SELECT 'sauve_backup_bytes', b.le,
       (SELECT COUNT(*) FROM runs r
        WHERE r.kind = 'backup' AND r.state IN ('succeeded', 'partial')
          AND r.started_at IS NOT NULL AND r.finished_at IS NOT NULL
          AND (b.le IS NULL OR r.bytes_out <= b.le))
FROM bounds b;

INSERT INTO histogram_sums (metric, total)
SELECT 'sauve_backup_duration_seconds', COALESCE(SUM((finished_at - started_at) / 1000.0), 0) FROM runs
WHERE kind = 'backup' AND state IN ('succeeded', 'partial') AND started_at IS NOT NULL AND finished_at IS NOT NULL;
INSERT INTO histogram_sums (metric, total)
SELECT 'sauve_backup_bytes', COALESCE(SUM(bytes_out), 0) FROM runs
WHERE kind = 'backup' AND state IN ('succeeded', 'partial') AND started_at IS NOT NULL AND finished_at IS NOT NULL;

CREATE TRIGGER runs_count_finished AFTER UPDATE OF finished_at ON runs
WHEN OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL
BEGIN
    INSERT INTO run_totals (job_name, kind, state, n, last_finished_at)
    VALUES (NEW.job_name, NEW.kind, NEW.state, 1, NEW.finished_at)
    ON CONFLICT (job_name, kind, state) DO UPDATE
    SET n = run_totals.n + 1,
        last_finished_at = MAX(COALESCE(run_totals.last_finished_at, 0), excluded.last_finished_at);
    INSERT INTO run_days (day, job_name, kind, state, n, bytes_out, duration_ms)
    VALUES (NEW.finished_at / 86400000, NEW.job_name, NEW.kind, NEW.state, 1, NEW.bytes_out,
            COALESCE(NEW.finished_at - NEW.started_at, 0))
    ON CONFLICT (day, job_name, kind, state) DO UPDATE
    SET n = run_days.n + 1, bytes_out = run_days.bytes_out + excluded.bytes_out,
        duration_ms = run_days.duration_ms + excluded.duration_ms;
    UPDATE histogram_buckets SET n = n + 1
    WHERE NEW.kind = 'backup' AND NEW.state IN ('succeeded', 'partial') AND NEW.started_at IS NOT NULL
      AND metric = 'sauve_backup_duration_seconds'
      AND (le IS NULL OR (NEW.finished_at - NEW.started_at) / 1000.0 <= le);
    UPDATE histogram_buckets SET n = n + 1
    WHERE NEW.kind = 'backup' AND NEW.state IN ('succeeded', 'partial') AND NEW.started_at IS NOT NULL
      AND metric = 'sauve_backup_bytes' AND (le IS NULL OR NEW.bytes_out <= le);
    UPDATE histogram_sums SET total = total + (NEW.finished_at - NEW.started_at) / 1000.0
    WHERE NEW.kind = 'backup' AND NEW.state IN ('succeeded', 'partial') AND NEW.started_at IS NOT NULL
      AND metric = 'sauve_backup_duration_seconds';
    UPDATE histogram_sums SET total = total + NEW.bytes_out
    WHERE NEW.kind = 'backup' AND NEW.state IN ('succeeded', 'partial') AND NEW.started_at IS NOT NULL
      AND metric = 'sauve_backup_bytes';
END;
