-- Notifications: each job's alerting state (failure streak, staleness), and
-- the outbox of deliveries, one row per (event, channel), sent with retries
-- by whichever instance claims it, every attempt recorded.

-- A job's Health (policy::alerts) as JSON, moved by compare-and-set on
-- version so instances folding the same run agree on one outcome. Keyed by
-- the job's id: a job deleted and created again under its name starts anew.
CREATE TABLE job_health (
    job_id      TEXT PRIMARY KEY,
    health      TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL
);
-- Which finished runs the alerting has folded: each run once, whichever
-- instance gets there, marked in the transaction that moves the job's
-- health. A per-run mark, not a cursor: a verify or a prune may finish
-- beside a backup, and on PostgreSQL a run's finished_at is stamped before
-- its transaction commits, so "everything before the last one seen" is not
-- a safe rule. `notice` is what a run has to tell beyond its state
-- (`retention.refused`), written with its outcome.
ALTER TABLE runs ADD COLUMN alerted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN notice TEXT;
-- The history before notifications existed is told already: an upgrade
-- replays no past failure to the channels.
UPDATE runs SET alerted = 1 WHERE finished_at IS NOT NULL;
CREATE INDEX runs_unalerted ON runs (job_id, finished_at, id) WHERE alerted = 0;

-- Existing jobs start from their history: their newest finished backup and
-- their last good one (staleness counts from it).
INSERT INTO job_health (job_id, health, version, updated_at)
SELECT j.id,
       '{"seen":' || COALESCE((SELECT '[' || CAST(r.finished_at AS TEXT) || ',"' || r.id || '"]'
                               FROM runs r
                               WHERE r.job_id = j.id AND r.kind = 'backup' AND r.finished_at IS NOT NULL
                                 AND r.state IN ('succeeded', 'partial', 'failed')
                               ORDER BY r.finished_at DESC, r.id DESC LIMIT 1), 'null')
       || ',"last_good_at":' || COALESCE((SELECT CAST(MAX(r.finished_at) AS TEXT)
                                          FROM runs r
                                          WHERE r.job_id = j.id AND r.kind = 'backup'
                                            AND r.state IN ('succeeded', 'partial')), 'null')
       || '}',
       0, 0
FROM jobs j;

-- Settings one instance publishes for all: the server's default channels
-- (`serve --notify`), read by every process that finishes a run.
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    -- Made of the job and its history only: the same decision, taken by two
    -- instances, makes the same key, and the unique index keeps one row.
    event_key        TEXT NOT NULL,
    channel          TEXT NOT NULL,       -- the channel's URI (names, never values)
    channel_kind     TEXT NOT NULL,
    event            TEXT NOT NULL,
    job_name         TEXT,
    run_id           TEXT,
    payload          TEXT NOT NULL,       -- the event as JSON, the same for every attempt
    state            TEXT NOT NULL,       -- pending | sending | sent | failed
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    last_status      BIGINT,              -- the receiver's HTTP or SMTP code
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE UNIQUE INDEX deliveries_once ON deliveries (event_key, channel);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_channel ON deliveries (channel, id);

CREATE TABLE delivery_attempts (
    delivery_id  TEXT NOT NULL,
    attempt      BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    ok           BIGINT NOT NULL,
    status       BIGINT,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
