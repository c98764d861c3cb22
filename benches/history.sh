#!/usr/bin/env bash
# benches/history.sh — a year of history (issue "Performance"): the API
# lists, the page and /metrics on a store holding 1,000,000 runs and 100,000
# backups, on SQLite and on PostgreSQL.
#
#   benches/history.sh                          # both engines, 1M runs, 100k backups
#   ENGINES=sqlite RUNS=200000 BACKUPS=20000 benches/history.sh
#
# For each engine: 30 jobs made by `sauve job create` (one named `small`,
# with one run in a thousand), the history written by history_seed.py, then
# `sauve serve` (release build) and, per endpoint, the median of 50 requests
# one after another, and the p50/p99 of RATE requests/s for SECS seconds
# (oha, with latency correction: a late request counts from when it was due).
# Targets: p99 ≤ 10 ms for the API lists, ≤ 50 ms for the page and /metrics.
# `serve --keep-runs 0`: the year stays whole while it is measured (the
# default, 90d, would start pruning it at once).
# It prints a table and exits 1 when a target is missed.
#
# Needs: a release build (`cargo build --release`, or SAUVE_BIN), oha
# (installed into ~/.cache/sauve/tools by `cargo install oha` when missing:
# about 3 minutes once), PostgreSQL as the tests have it (PGHOST/PGUSER).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-1000000}
BACKUPS=${BACKUPS:-100000}
RATE=${RATE:-200}
SECS=${SECS:-10}
ENGINES=${ENGINES:-sqlite postgres}
PORT=${PORT:-18471}
BENCH_DIR=${BENCH_DIR:-/tmp/sauve-history-bench}
SAUVE_BIN=${SAUVE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/sauve/target}/release/sauve}
[ -x "$SAUVE_BIN" ] || { echo "no sauve binary at $SAUVE_BIN: cargo build --release" >&2; exit 2; }
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
TOOLS=$HOME/.cache/sauve/tools
OHA=${OHA:-$(command -v oha || echo "$TOOLS/bin/oha")}
if [ ! -x "$OHA" ]; then
    echo "installing oha into $TOOLS (once)" >&2
    cargo install oha --locked --root "$TOOLS" >&2
fi

base=http://127.0.0.1:$PORT
server=
stop_server() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; server=; }
trap stop_server EXIT

# Each endpoint, with the target its p99 must meet (ms).
endpoints=(
    "/api/admin/runs?limit=50 10"
    "/api/admin/runs?job=small&limit=50 10"
    "/api/admin/runs?state=failed&limit=50 10"
    "/api/admin/backups?limit=50 10"
    "/dashboard/admin/backup 50"
    "/metrics 50"
)

missed=0
report=$BENCH_DIR/report.md
mkdir -p "$BENCH_DIR"
printf '| engine | request | median (50 in a row) | p50 @ %s/s | p99 @ %s/s | target p99 |\n|---|---|---:|---:|---:|---:|\n' "$RATE" "$RATE" >"$report"

for engine in $ENGINES; do
    data=$BENCH_DIR/$engine
    rm -rf "$data" && mkdir -p "$data/dest" "$data/src"
    case $engine in
        sqlite) url="sqlite://$data/sauve.db"; target=$data/sauve.db ;;
        postgres)
            target=sauve_bench_history
            dropdb --if-exists --force "$target" && createdb "$target"
            url="postgres://$PGUSER@$PGHOST:5432/$target" ;;
    esac
    sv() { SAUVE_LOG=warn "$SAUVE_BIN" --data-dir "$data" --database-url "$url" "$@"; }
    sqlite3 "$data/src/app.db" "CREATE TABLE IF NOT EXISTS t (x); INSERT INTO t VALUES (1);"
    for i in $(seq -w 1 29) small; do
        name=$i; [ "$i" = small ] || name=app-$i
        sv job create "$name" --source "sqlite://$data/src/app.db" --dest "file://$data/dest" \
            --schedule "daily at 03:00" --keep-last 7 >/dev/null
    done
    echo 'bench-password-1234' | sv user add admin --role admin --password-stdin >/dev/null
    token=$(sv token create bench --scope all,metrics:read 2>/dev/null)
    python3 benches/history_seed.py "$engine" "$target" --runs "$RUNS" --backups "$BACKUPS" --dest "file://$data/dest"
    # What the load left to write (PostgreSQL's checkpoint, dirty pages)
    # written now, not during the first measurement.
    [ "$engine" = postgres ] && psql -Xq -c CHECKPOINT "$target"
    sync

    SAUVE_LOG=warn "$SAUVE_BIN" --data-dir "$data" --database-url "$url" serve --listen "127.0.0.1:$PORT" --keep-runs 0 \
        >"$data/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 300); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
    curl -fs "$base/healthz" >/dev/null || { cat "$data/serve.log" >&2; exit 1; }
    jar=$data/cookies
    curl -fs -c "$jar" -o /dev/null -H "Origin: $base" --data 'name=admin&password=bench-password-1234' "$base/login"
    cookie=$(awk '$6 == "sauve_session" { print "sauve_session=" $7 }' "$jar")
    [ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }

    for e in "${endpoints[@]}"; do
        path=${e% *} goal=${e##* }
        case $path in
            /dashboard*) auth=(-H "Cookie: $cookie") ;;
            *) auth=(-H "Authorization: Bearer $token") ;;
        esac
        code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$base$path")
        [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
        # Warm: the pages of its indexes in the engine's cache, as in use.
        "$OHA" -z 2s -q "$RATE" -c 8 --no-tui --output-format json "${auth[@]}" "$base$path" >/dev/null
        # One after another: what a person waits.
        median=$("$OHA" -n 50 -c 1 --no-tui --output-format json "${auth[@]}" "$base$path" |
            jq '.latencyPercentiles.p50 * 1000')
        # Under a steady load, late requests counted from when they were due.
        load=$("$OHA" -z "${SECS}s" -q "$RATE" -c 8 --latency-correction --no-tui --output-format json \
            "${auth[@]}" "$base$path")
        p50=$(jq '.latencyPercentiles.p50 * 1000' <<<"$load")
        p99=$(jq '.latencyPercentiles.p99 * 1000' <<<"$load")
        ok=$(jq '[.statusCodeDistribution | to_entries[] | select(.key != "200")] | length' <<<"$load")
        [ "$ok" = 0 ] || { echo "$path: some answers were not 200: $(jq -c .statusCodeDistribution <<<"$load")" >&2; exit 1; }
        verdict=$(awk -v p="$p99" -v g="$goal" 'BEGIN { print (p <= g) ? "ok" : "MISSED" }')
        [ "$verdict" = ok ] || missed=1
        printf '| %s | `GET %s` | %.1f ms | %.1f ms | %.1f ms | ≤ %s ms %s |\n' \
            "$engine" "$path" "$median" "$p50" "$p99" "$goal" "$verdict" | tee -a "$report"
    done
    stop_server
done
echo
cat "$report"
exit $missed
