#!/usr/bin/env bash
# benches/restore.sh — restore throughput against the standard tools on the
# same artifacts (issue "Proven restorable"):
#
#   files  sauve restore ID --to DIR   vs  zstd -dc ARTIFACT | tar -x -C DIR
#   pg     sauve restore ID --to NEWDB vs  createdb + zstd -dc ARTIFACT |
#                                          pg_restore --single-transaction -d NEWDB
#
#   benches/restore.sh                        # 512 MiB tree, ~1M-row table, 9 runs (it is noisy)
#   SIZE_MIB=2048 ROWS=4000000 RUNS=5 benches/restore.sh
#
# Sauve restores in one pass (the checksum checked before the commit), so the
# target is ≥ 0.95× the baseline (baseline wall / sauve wall). The tree is
# compressible text plus random files; the artifacts are made once by
# `sauve backup run`. PostgreSQL is the machine's (PGHOST/PGUSER, default
# 127.0.0.1, postgres). It builds nothing: `cargo build --release` first, or
# point SAUVE_BIN at a binary.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SIZE_MIB=${SIZE_MIB:-512}
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-9}
BENCH_DIR=${BENCH_DIR:-/tmp/sauve-restore-bench}
SAUVE_BIN=${SAUVE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/sauve/target}/release/sauve}
[ -x "$SAUVE_BIN" ] || { echo "no sauve binary at $SAUVE_BIN: cargo build --release" >&2; exit 2; }
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}

data=$BENCH_DIR/data
rm -rf "$data" "$BENCH_DIR/dest" "$BENCH_DIR/out"
mkdir -p "$BENCH_DIR/dest" "$BENCH_DIR/out"
sv() { SAUVE_LOG=warn "$SAUVE_BIN" --data-dir "$data" "$@"; }

# The tree: half text (compresses), half random (does not), in 4 MiB files.
tree=$BENCH_DIR/tree-$SIZE_MIB
if [ ! -f "$tree.complete" ]; then
    rm -rf "$tree" && mkdir -p "$tree"
    for i in $(seq 1 $((SIZE_MIB / 4))); do
        d=$tree/d$((i % 16)); mkdir -p "$d"
        if [ $((i % 2)) = 0 ]; then head -c 4194304 /dev/urandom >"$d/f$i.bin"
        else { yes "line $i of a text file that compresses" || true; } | head -c 4194304 >"$d/f$i.txt"; fi
    done
    touch "$tree.complete"
fi
db=sauve_bench_restore_src
if [ "$(psql -XtAc "SELECT count(*) FROM pg_database WHERE datname = '$db'" postgres)" = 0 ] ||
   [ "$(psql -XtAc "SELECT count(*) FROM t" "$db" 2>/dev/null || echo 0)" != "$ROWS" ]; then
    dropdb --if-exists "$db" && createdb "$db"
    psql -Xq "$db" -c "CREATE TABLE t (id bigint PRIMARY KEY, note text, n numeric);
        INSERT INTO t SELECT i, md5(i::text), i * 1.5 FROM generate_series(1, $ROWS) i;"
fi

sv job create bench-files --source "files://$tree" --dest "$BENCH_DIR/dest" >/dev/null
sv job create bench-pg --source "postgres://$PGUSER@$PGHOST:5432/$db" --dest "$BENCH_DIR/dest" >/dev/null
files_id=$(sv backup run bench-files --json | jq -r '.backups[0].id')
pg_id=$(sv backup run bench-pg --json | jq -r '.backups[0].id')
artifact() { sv backup list --json | jq -r --arg id "$1" '.[] | select(.id == $id) | .key' | sed "s|^|$BENCH_DIR/dest/|"; }
files_art=$(artifact "$files_id")
pg_art=$(artifact "$pg_id")

# time_of COMMAND... : wall seconds of one run.
time_of() {
    /usr/bin/time -f "%e" -o "$BENCH_DIR/time" "$@" >/dev/null 2>"$BENCH_DIR/err" \
        || { cat "$BENCH_DIR/err" >&2; exit 1; }
    cat "$BENCH_DIR/time"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ft=() fs=() pt=() ps=()
for i in $(seq 1 "$RUNS"); do
    out=$BENCH_DIR/out
    rm -rf "$out/tar" "$out/sauve"; mkdir -p "$out/tar"; sync
    ft+=("$(time_of bash -c "zstd -dc '$files_art' | tar -x -C '$out/tar'")")
    sync
    fs+=("$(time_of env SAUVE_LOG=warn "$SAUVE_BIN" --data-dir "$data" restore "$files_id" --to "$out/sauve")")
    dropdb --if-exists bench_tool && dropdb --if-exists bench_sauve
    pt+=("$(time_of bash -c "createdb bench_tool && zstd -dc '$pg_art' | pg_restore --single-transaction --exit-on-error -d bench_tool")")
    ps+=("$(time_of env SAUVE_LOG=warn "$SAUVE_BIN" --data-dir "$data" restore "$pg_id" --to "postgres://$PGUSER@$PGHOST:5432/bench_sauve")")
    echo "run $i: files tar ${ft[-1]} s, sauve ${fs[-1]} s; pg pg_restore ${pt[-1]} s, sauve ${ps[-1]} s"
done
diff -r "$tree" "$BENCH_DIR/out/sauve" >/dev/null || { echo "the restored tree differs" >&2; exit 1; }
[ "$(psql -XtAc 'SELECT count(*) FROM t' bench_sauve)" = "$ROWS" ] || { echo "rows differ" >&2; exit 1; }
dropdb --if-exists bench_tool && dropdb --if-exists bench_sauve

awk -v ft="$(printf '%s\n' "${ft[@]}" | median)" -v fs="$(printf '%s\n' "${fs[@]}" | median)" \
    -v pt="$(printf '%s\n' "${pt[@]}" | median)" -v ps="$(printf '%s\n' "${ps[@]}" | median)" \
    -v mib="$SIZE_MIB" -v rows="$ROWS" -v runs="$RUNS" 'BEGIN {
    printf "\nmedians of %d runs\n", runs
    printf "files (%d MiB):  zstd|tar %.2f s, sauve %.2f s, ratio %.2fx (target >= 0.95)\n", mib, ft, fs, ft / fs
    printf "pg (%d rows):    zstd|pg_restore %.2f s, sauve %.2f s, ratio %.2fx (target >= 0.95)\n", rows, pt, ps, pt / ps
}'
