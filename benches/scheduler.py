#!/usr/bin/env python3
"""Scheduler benchmark: one `sauve serve` with many jobs.

Measures, with the release binary:
  - idle CPU of the serve process while none of the jobs is due;
  - peak RSS of the serve process;
  - firing lateness (run start minus its schedule slot) of jobs on short
    schedules, p50 / p99 / max, while all the other jobs stay registered.

Usage:
  CARGO_TARGET_DIR=$HOME/.cache/sauve/target cargo build --release
  benches/scheduler.py                    # 10,000 jobs
  JOBS=1000 FIRING=20 benches/scheduler.py

Environment: SAUVE_BIN (default $HOME/.cache/sauve/target/release/sauve),
JOBS (10000), FIRING (jobs moved to `every 10s`, 50), IDLE_SECS (30),
FIRING_SECS (60), WORKERS (4).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

BIN = os.environ.get(
    "SAUVE_BIN", os.path.expanduser("~/.cache/sauve/target/release/sauve")
)
JOBS = int(os.environ.get("JOBS", "10000"))
FIRING = int(os.environ.get("FIRING", "50"))
IDLE_SECS = int(os.environ.get("IDLE_SECS", "30"))
FIRING_SECS = int(os.environ.get("FIRING_SECS", "60"))
WORKERS = int(os.environ.get("WORKERS", "4"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def sauve(data, *args):
    out = subprocess.run(
        [BIN, "--data-dir", data, *args], capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"sauve {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def job_toml(name, dest, schedule, tz):
    return (
        f'[[job]]\nname = "{name}"\ndestinations = ["{dest}"]\n'
        f'schedule = {json.dumps(schedule)}\ntimezone = "{tz}"\noverlap = "queue"\n'
        f'[job.source]\nkind = "command"\ncommand = ["true"]\n\n'
    )


def quiet_schedules(now):
    """Mixed schedules, none due in the next hours."""
    later = now + timedelta(hours=3)
    hhmm = later.strftime("%H:%M")
    day = (now + timedelta(days=10)).day
    return [
        f"daily at {hhmm}",
        f"weekly on mon,thu at {hhmm}",
        f"monthly on {min(day, 28)},last at {hhmm}",
        'cron "0 0 1 1 *"',
        "every 24h" if later.hour >= 1 else f"daily at {hhmm}",
    ]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} not found: CARGO_TARGET_DIR=$HOME/.cache/sauve/target cargo build --release")
    work = tempfile.mkdtemp(prefix="sauve-sched-bench-")
    data, dest = os.path.join(work, "data"), os.path.join(work, "backups")
    now = datetime.now(timezone.utc)
    quiet = quiet_schedules(now)
    zones = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]
    # UTC for the quiet schedules keeps "not due for 3 hours" true in every zone.
    toml = "".join(
        job_toml(f"job-{i:05}", dest, quiet[i % len(quiet)], "UTC") for i in range(JOBS)
    )
    path = os.path.join(work, "jobs.toml")
    with open(path, "w") as f:
        f.write(toml)
    t = time.time()
    sauve(data, "job", "apply", path)
    print(f"applied {JOBS} jobs in {time.time() - t:.1f} s", file=sys.stderr)

    server = subprocess.Popen(
        [BIN, "--data-dir", data, "serve", "--listen", "127.0.0.1:0", "--workers", str(WORKERS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    server.stdout.readline()
    try:
        time.sleep(3)  # start-up settles
        c0, t0 = cpu_seconds(server.pid), time.time()
        time.sleep(IDLE_SECS)
        idle_cpu = (cpu_seconds(server.pid) - c0) / (time.time() - t0) * 100

        # Move FIRING jobs to a 10-second schedule, in several zones.
        firing = "".join(
            job_toml(f"job-{i:05}", dest, "every 10s", zones[i % len(zones)])
            for i in range(FIRING)
        )
        with open(path, "w") as f:
            f.write(firing)
        sauve(data, "job", "apply", path)
        start = datetime.now(timezone.utc)
        time.sleep(FIRING_SECS)
        rss = peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)

    runs = json.loads(sauve(data, "run", "list", "--json", "--limit", "1000000"))
    late = []
    for r in runs:
        if r["trigger"] != "schedule" or not r["started_at"]:
            continue
        slot = datetime.fromisoformat(r["scheduled_for"].replace("Z", "+00:00"))
        if slot < start:
            continue
        started = datetime.fromisoformat(r["started_at"].replace("Z", "+00:00"))
        late.append((started - slot).total_seconds())
    late.sort()
    if not late:
        sys.exit("no scheduled run started")
    p = lambda q: late[min(len(late) - 1, int(q * len(late)))]
    print(f"| jobs | firing jobs | scheduled runs | lateness p50 s | p99 s | max s | idle CPU % | peak RSS MiB |")
    print(f"|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {JOBS} | {FIRING} (every 10s) | {len(late)} | {statistics.median(late):.3f} | {p(0.99):.3f} "
        f"| {late[-1]:.3f} | {idle_cpu:.2f} | {rss:.1f} |"
    )
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
