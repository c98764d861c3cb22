-- What each destination holds (issue 16): the backups still in storage (live
-- or in the trash, which stays until purged) by destination and job, and what
-- each UTC day added and removed there, kept by triggers on backups whatever
-- path or instance writes them. The page reads these few rows, never the
-- backups: today's totals, and 90 days back by subtracting each day's change.
CREATE TABLE storage_totals (
    destination  TEXT NOT NULL,
    job_name     TEXT NOT NULL,
    n            BIGINT NOT NULL,
    bytes        BIGINT NOT NULL,
    PRIMARY KEY (destination, job_name)
);
CREATE TABLE storage_days (
    day          BIGINT NOT NULL,
    destination  TEXT NOT NULL,
    added        BIGINT NOT NULL,
    removed      BIGINT NOT NULL,
    PRIMARY KEY (day, destination)
);

-- Each job's days of one kind, for the page's 30-day strip: a range per
-- job (run_days' key starts with the day, which is every job's), holding
-- every column the strip reads so no row of the table is visited.
CREATE INDEX run_days_job ON run_days (job_name, kind, day, state, n, bytes_out, duration_ms);

-- Each job's 30 newest successful backup runs, for the page's sparklines:
-- copied as each one finishes (a trigger below) and trimmed to 30, so the
-- page reads 30 rows a job from a table of 30 rows a job instead of 30
-- scattered rows of a table of millions.
CREATE TABLE recent_backups (
    job_name     TEXT NOT NULL,
    id           TEXT NOT NULL,
    bytes_out    BIGINT NOT NULL,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (job_name, id)
) WITHOUT ROWID;
INSERT INTO recent_backups (job_name, id, bytes_out, duration_ms)
SELECT job_name, id, bytes_out, duration_ms FROM (
    SELECT job_name, id, bytes_out, COALESCE(finished_at - started_at, 0) AS duration_ms,
           ROW_NUMBER() OVER (PARTITION BY job_name ORDER BY id DESC) AS newest
    FROM runs WHERE kind = 'backup' AND state = 'succeeded' AND finished_at IS NOT NULL
) ranked WHERE newest <= 30;

INSERT INTO storage_totals (destination, job_name, n, bytes)
SELECT destination, job_name, COUNT(*), SUM(size) FROM backups
WHERE deleted_at IS NULL GROUP BY destination, job_name;

INSERT INTO storage_days (day, destination, added, removed)
SELECT day, destination, SUM(added), SUM(removed) FROM (
    SELECT created_at / 86400000 AS day, destination, size AS added, 0 AS removed FROM backups
    UNION ALL
    SELECT deleted_at / 86400000, destination, 0, size FROM backups WHERE deleted_at IS NOT NULL
) changes GROUP BY day, destination;

CREATE TRIGGER backups_count_stored AFTER INSERT ON backups
WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO storage_totals (destination, job_name, n, bytes)
    VALUES (NEW.destination, NEW.job_name, 1, NEW.size)
    ON CONFLICT (destination, job_name) DO UPDATE
    SET n = storage_totals.n + 1, bytes = storage_totals.bytes + excluded.bytes;
    INSERT INTO storage_days (day, destination, added, removed)
    VALUES (NEW.created_at / 86400000, NEW.destination, NEW.size, 0)
    ON CONFLICT (day, destination) DO UPDATE SET added = storage_days.added + excluded.added;
END;

-- Purged (or deleted by a person): gone from storage on that day.
CREATE TRIGGER backups_count_removed AFTER UPDATE OF deleted_at ON backups
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
    UPDATE storage_totals SET n = n - 1, bytes = bytes - OLD.size
    WHERE destination = OLD.destination AND job_name = OLD.job_name;
    INSERT INTO storage_days (day, destination, added, removed)
    VALUES (NEW.deleted_at / 86400000, OLD.destination, 0, OLD.size)
    ON CONFLICT (day, destination) DO UPDATE SET removed = storage_days.removed + excluded.removed;
END;

-- A row of a backup still in storage deleted outright: no longer counted,
-- removed today (no path does this now; history pruning deletes only rows of
-- purged backups).
CREATE TRIGGER backups_count_dropped AFTER DELETE ON backups
WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE storage_totals SET n = n - 1, bytes = bytes - OLD.size
    WHERE destination = OLD.destination AND job_name = OLD.job_name;
    INSERT INTO storage_days (day, destination, added, removed)
    VALUES (CAST(strftime('%s', 'now') AS INTEGER) / 86400, OLD.destination, 0, OLD.size)
    ON CONFLICT (day, destination) DO UPDATE SET removed = storage_days.removed + excluded.removed;
END;

CREATE TRIGGER runs_keep_recent_backups AFTER UPDATE OF finished_at ON runs
WHEN OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL
     AND NEW.kind = 'backup' AND NEW.state = 'succeeded'
BEGIN
    INSERT OR IGNORE INTO recent_backups (job_name, id, bytes_out, duration_ms)
    VALUES (NEW.job_name, NEW.id, NEW.bytes_out, COALESCE(NEW.finished_at - NEW.started_at, 0));
    DELETE FROM recent_backups WHERE job_name = NEW.job_name AND id < (
        SELECT id FROM recent_backups WHERE job_name = NEW.job_name
        ORDER BY id DESC LIMIT 1 OFFSET 29);
END;
