-- Sauve metadata, SQLite flavour. Times are Unix milliseconds (BIGINT) so the same
-- queries run on SQLite and PostgreSQL; ids are ULIDs made by the application.

CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    spec        TEXT NOT NULL,            -- the JobSpec, as JSON
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The runs table is the durable queue and the history of every execution.
CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    job_id           TEXT NOT NULL,
    job_name         TEXT NOT NULL,
    trigger          TEXT NOT NULL,
    state            TEXT NOT NULL,
    scheduled_for    BIGINT,              -- the slot, for scheduled runs
    idempotency_key  TEXT,
    attempt          BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL DEFAULT 3,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    queued_at        BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    bytes_in         BIGINT NOT NULL DEFAULT 0,
    bytes_out        BIGINT NOT NULL DEFAULT 0,
    error            TEXT,
    log              TEXT NOT NULL DEFAULT ''
);
-- NULLs are distinct in both engines: only scheduled runs compete for a slot.
CREATE UNIQUE INDEX runs_slot ON runs (job_id, scheduled_for);
CREATE UNIQUE INDEX runs_idempotency ON runs (job_id, idempotency_key);
CREATE INDEX runs_state ON runs (state, queued_at);
CREATE INDEX runs_job ON runs (job_name, queued_at);

CREATE TABLE backups (
    id           TEXT PRIMARY KEY,
    run_id       TEXT,
    job_name     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    size         BIGINT NOT NULL,
    raw_size     BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    destination  TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    source_kind  TEXT NOT NULL,
    compression  TEXT NOT NULL,
    encrypted    BIGINT NOT NULL,
    manifest     TEXT NOT NULL,           -- the manifest as written beside the artifact
    deleted_at   BIGINT
);
CREATE INDEX backups_job ON backups (job_name, created_at);
CREATE UNIQUE INDEX backups_object ON backups (destination, object_key);
