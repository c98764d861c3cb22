#!/usr/bin/env python3
"""A year of history for benches/history.sh: runs and backups of the jobs
already in a store, written straight into its tables.

    history_seed.py sqlite PATH.db    --runs 1000000 --backups 100000
    history_seed.py postgres DBNAME   --runs 1000000 --backups 100000

The jobs must exist (made by `sauve job create`, so their specs are real);
the store must be stopped. Runs are spread over the 365 days before now, job
after job in turn, except the job named `small`, which has one run in a
thousand (the case where a per-job list used to scan the table). Kinds and
states are a plausible mix (mostly succeeded backups), every finished run is
already alerted (the history is told), and each job's newest successful
backup runs carry the stored backups, so no stored backup's run is old enough
to prune. Ids are ULIDs in time order, as Sauve makes them. Deterministic:
the same arguments write the same rows.
"""

import argparse
import csv
import io
import json
import random
import sqlite3
import subprocess
import sys
import time

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"  # lower case, as Sauve writes them
DAY_MS = 86_400_000


def ulid(ms: int, seq: int) -> str:
    """A ULID whose time part is `ms` and whose random part is `seq`: unique
    and in time order, like the ones Sauve makes."""
    t = "".join(CROCKFORD[(ms >> (5 * i)) & 31] for i in range(9, -1, -1))
    r = "".join(CROCKFORD[(seq >> (5 * i)) & 31] for i in range(15, -1, -1))
    return t + r


RUN_COLUMNS = [
    "id", "job_id", "job_name", "trigger", "state", "scheduled_for", "idempotency_key",
    "attempt", "max_attempts", "lease_owner", "lease_expires_at", "queued_at",
    "started_at", "finished_at", "bytes_in", "bytes_out", "error", "log", "not_before",
    "cancel_requested", "kind", "params", "alerted", "notice",
]
BACKUP_COLUMNS = [
    "id", "run_id", "job_name", "created_at", "size", "raw_size", "sha256", "destination",
    "object_key", "source_kind", "compression", "encrypted", "manifest", "deleted_at",
    "trashed_at", "purge_after", "trash_reason", "purge_error", "purge_started_at",
    "verified_at", "damaged_at", "verify_error", "test_restored_at", "test_restore",
]

LOG = (
    "attempt 1 on bench-host-1\n"
    "source: postgres://app@db.internal:5432/app (pg_dump 15.4, custom format)\n"
    "pipeline: zstd level 3, sha256, 1 destination\n"
    "file:///var/backups/sauve: wrote {bytes} bytes in {secs:.1f} s\n"
    "manifest written; backup recorded\n"
)


def pick_kind(rng: random.Random) -> str:
    x = rng.random()
    if x < 0.90:
        return "backup"
    if x < 0.95:
        return "verify"
    if x < 0.99:
        return "prune"
    return "test_restore"


def pick_state(rng: random.Random) -> str:
    x = rng.random()
    if x < 0.94:
        return "succeeded"
    if x < 0.98:
        return "failed"
    if x < 0.99:
        return "partial"
    return "cancelled"


def runs(jobs, n_runs, now_ms, rng):
    """Yields run rows oldest first."""
    big = [j for j in jobs if j[1] != "small"]
    small = [j for j in jobs if j[1] == "small"]
    span = 365 * DAY_MS
    for i in range(n_runs):
        queued = now_ms - span + (span * i) // n_runs
        job = small[0] if small and i % 1000 == 999 else big[i % len(big)]
        kind = pick_kind(rng)
        state = pick_state(rng)
        secs = rng.uniform(2, 600) if kind == "backup" else rng.uniform(0.5, 60)
        started = queued + rng.randint(5, 500)
        finished = started + int(secs * 1000)
        size = rng.randint(10_000_000, 3_000_000_000) if kind == "backup" and state != "failed" else 0
        yield [
            ulid(queued, i), job[0], job[1],
            "schedule" if kind == "backup" else "manual", state,
            queued if kind == "backup" else None, None,
            1, 3, None, None, queued, started, finished,
            size * 3, size,
            "pg_dump: error: connection to server failed: timeout expired; check the host and the secret's bound hosts"
            if state == "failed" else ("cancelled by alice" if state == "cancelled" else None),
            LOG.format(bytes=size, secs=secs),
            None, 0, kind, None, 1, None,
        ]


# The counters /metrics reads and the page's recent backups are kept by
# triggers as runs finish; rows written straight into the table are counted
# here, as migrations 0011 and 0012 count the history they find.
RECOUNT = """
DELETE FROM run_totals;
INSERT INTO run_totals (job_name, kind, state, n, last_finished_at)
SELECT job_name, kind, state, COUNT(*), MAX(finished_at) FROM runs
WHERE finished_at IS NOT NULL GROUP BY job_name, kind, state;
DELETE FROM run_days;
INSERT INTO run_days (day, job_name, kind, state, n, bytes_out, duration_ms)
SELECT finished_at / 86400000, job_name, kind, state, COUNT(*), SUM(bytes_out),
       SUM(COALESCE(finished_at - started_at, 0))
FROM runs WHERE finished_at IS NOT NULL
GROUP BY finished_at / 86400000, job_name, kind, state;
DELETE FROM recent_backups;
INSERT INTO recent_backups (job_name, id, bytes_out, duration_ms)
SELECT job_name, id, bytes_out, duration_ms FROM (
    SELECT job_name, id, bytes_out, COALESCE(finished_at - started_at, 0) AS duration_ms,
           ROW_NUMBER() OVER (PARTITION BY job_name ORDER BY id DESC) AS newest
    FROM runs WHERE kind = 'backup' AND state = 'succeeded' AND finished_at IS NOT NULL
) ranked WHERE newest <= 30;
UPDATE histogram_buckets SET n = (
    SELECT COUNT(*) FROM runs r
    WHERE r.kind = 'backup' AND r.state IN ('succeeded', 'partial')
      AND r.started_at IS NOT NULL AND r.finished_at IS NOT NULL
      AND (histogram_buckets.le IS NULL OR
           (CASE histogram_buckets.metric WHEN 'sauve_backup_bytes' THEN r.bytes_out
                 ELSE (r.finished_at - r.started_at) / 1000.0 END) <= histogram_buckets.le));
UPDATE histogram_sums SET total = (
    SELECT COALESCE(SUM(CASE histogram_sums.metric WHEN 'sauve_backup_bytes' THEN r.bytes_out
                             ELSE (r.finished_at - r.started_at) / 1000.0 END), 0)
    FROM runs r
    WHERE r.kind = 'backup' AND r.state IN ('succeeded', 'partial')
      AND r.started_at IS NOT NULL AND r.finished_at IS NOT NULL);
"""


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("engine", choices=["sqlite", "postgres"])
    p.add_argument("target", help="the SQLite file, or the PostgreSQL database name (PGHOST/PGUSER apply)")
    p.add_argument("--runs", type=int, default=1_000_000)
    p.add_argument("--backups", type=int, default=100_000)
    p.add_argument("--dest", default="file:///var/backups/sauve")
    a = p.parse_args()

    if a.engine == "sqlite":
        db = sqlite3.connect(a.target)
        jobs = db.execute("SELECT id, name FROM jobs ORDER BY name").fetchall()
    else:
        out = subprocess.run(["psql", "-XtA", "-F", "\t", "-c", "SELECT id, name FROM jobs ORDER BY name", a.target],
                             check=True, capture_output=True, text=True).stdout
        jobs = [tuple(line.split("\t")) for line in out.splitlines() if line]
    if not jobs:
        sys.exit("no jobs in the store: create them first")
    rng = random.Random(42)
    now_ms = int(time.time() * 1000)
    t0 = time.time()

    rows = list(runs(jobs, a.runs, now_ms, rng))
    # The stored backups: each job's newest successful backup runs, a share
    # of a.backups by job in proportion to its runs.
    by_job = {}
    for r in rows:
        if r[20] == "backup" and r[4] == "succeeded":
            by_job.setdefault(r[2], []).append(r)
    total = sum(len(v) for v in by_job.values())
    backups = []
    for name, rs in sorted(by_job.items()):
        share = max(1, a.backups * len(rs) // total)
        for r in rs[-share:]:
            bid = ulid(r[11], 1 << 60 | len(backups))
            manifest = json.dumps({"format": 1, "id": bid, "job": name, "created_at": r[12],
                                   "size": r[15], "sha256": "%064x" % rng.getrandbits(256)})
            verified = r[13] + 60_000 if rng.random() < 0.2 else None
            backups.append([
                bid, r[0], name, r[12], r[15], r[14], "%064x" % rng.getrandbits(256), a.dest,
                f"{name}/{bid}.dump.zst", "postgres", "zstd", 0, manifest, None,
                None, None, None, None, None, verified, None, None, None, None,
            ])
    print(f"generated {len(rows)} runs and {len(backups)} backups in {time.time() - t0:.1f} s", file=sys.stderr)

    t0 = time.time()
    if a.engine == "sqlite":
        db.execute("PRAGMA synchronous = OFF")
        with db:
            db.executemany(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})", rows)
            db.executemany(f"INSERT INTO backups ({', '.join(BACKUP_COLUMNS)}) VALUES ({', '.join('?' * len(BACKUP_COLUMNS))})", backups)
        db.executescript(RECOUNT)
        db.commit()
        # No ANALYZE: Sauve never runs one, so the planner works without
        # statistics, as it does in a real store.
        db.close()
    else:
        for table, cols, data in (("runs", RUN_COLUMNS, rows), ("backups", BACKUP_COLUMNS, backups)):
            buf = io.StringIO()
            w = csv.writer(buf)
            for r in data:
                # CSV's unquoted empty field is NULL in COPY; quoted "" is ''.
                w.writerow(["" if v is None else v for v in r])
            subprocess.run(["psql", "-Xq", "-v", "ON_ERROR_STOP=1", "-c",
                            f"\\copy {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)", a.target],
                           input=buf.getvalue(), text=True, check=True)
        subprocess.run(["psql", "-Xq", "-v", "ON_ERROR_STOP=1", "-c", RECOUNT, a.target], check=True)
        # What autovacuum does within a minute of such a load in a real store.
        subprocess.run(["psql", "-Xq", "-c", "VACUUM ANALYZE", a.target], check=True)
    print(f"loaded in {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
