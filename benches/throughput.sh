#!/usr/bin/env bash
# benches/throughput.sh — backup throughput and peak memory of `sauve backup run`
# on a files source, side by side with baselines (issue "Foundation"; results
# are recorded in BENCHMARKS.md).
#
#   benches/throughput.sh                     # 1 GiB tree, 3 runs of each tool
#   SIZE_MIB=10240 benches/throughput.sh      # 10x input: peak RSS must stay flat
#   RUNS=5 TOOLS="baseline sauve" benches/throughput.sh
#   GENERATE_ONLY=1 SIZE_MIB=64 benches/throughput.sh
#
# Tools measured (TOOLS, default all four):
#   baseline         tar -cf - | zstd -T0 -3    — the floor: same work, no Sauve
#   baseline-fsync   the same, then `sync OUT` (fsync): as durable as a backup
#                    must be, so the fair reference for sauve
#   sauve            sauve backup run, files source, local dest, no encryption
#   sauve-encrypted  the same with age passphrase encryption
#                    (and its restore, sauve-encrypted-restore: the key
#                    derivation is paid again there)
#   restic           restic backup into a fresh local repository
#
# It builds nothing: build first with `cargo build --release` and/or point
# SAUVE_BIN at the binary. Everything is streamed to disk; nothing here holds
# the input in memory, so SIZE_MIB is bounded only by free disk space
# (tree + one tool's output at a time).
set -euo pipefail

# C locale: byte-oriented awk/sort, '.' as decimal separator, faster awk.
export LC_ALL=C

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/sauve-bench}
SAUVE_BIN=${SAUVE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/sauve/target}/release/sauve}
TOOLS=${TOOLS:-baseline baseline-fsync sauve sauve-encrypted restic}
GENERATE_ONLY=${GENERATE_ONLY:-0}
# The passphrase the encrypted job reads from the environment (never argv).
export SAUVE_BENCH_PASSPHRASE=${SAUVE_BENCH_PASSPHRASE:-sauve-bench-passphrase}

TREE=$BENCH_DIR/tree-$SIZE_MIB
# The marker lives beside the tree, not inside it, so it is not part of the
# measured input. No marker = generation was interrupted = regenerate.
MARKER=$BENCH_DIR/tree-$SIZE_MIB.complete
OUT=$BENCH_DIR/out
LOGS=$BENCH_DIR/logs

die() { echo "throughput.sh: $*" >&2; exit 1; }
log() { echo "throughput.sh: $*" >&2; }

case $SIZE_MIB in '' | *[!0-9]*) die "SIZE_MIB must be a positive integer (MiB)" ;; esac
case $RUNS in '' | *[!0-9]* | 0) die "RUNS must be a positive integer" ;; esac
[ "$SIZE_MIB" -ge 2 ] || die "SIZE_MIB must be at least 2"

# ---------------------------------------------------------------------------
# Preconditions, checked before spending minutes on generating a tree.
# ---------------------------------------------------------------------------
wants() { case " $TOOLS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

for t in $TOOLS; do
    case $t in baseline | baseline-fsync | sauve | sauve-encrypted | restic) ;; *) die "unknown tool '$t' in TOOLS" ;; esac
done

if [ "$GENERATE_ONLY" != 1 ]; then
    if wants sauve || wants sauve-encrypted; then
        [ -x "$SAUVE_BIN" ] || die "sauve binary not found at $SAUVE_BIN
build it with: CARGO_TARGET_DIR=$HOME/.cache/sauve/target cargo build --release   (or set SAUVE_BIN=/path/to/sauve)"
    fi
    # `command -v time` would find the shell keyword; we need GNU time for %M.
    [ -x /usr/bin/time ] || die "GNU time missing at /usr/bin/time (run scripts/setup)"
    need=(tar zstd du jq)
    wants restic && need+=(restic)
    for c in "${need[@]}"; do
        command -v "$c" >/dev/null 2>&1 || die "$c not found (run scripts/setup)"
    done
fi

mkdir -p "$BENCH_DIR"

# Cleanup on any exit. Interrupted (Ctrl-C, kill) counts too: without the
# INT/TERM traps bash would skip the EXIT trap, and a still-running background
# generator would keep writing into the next run's tree.
GEN_PID=""
DATA_DIR=""
MEASURING=0
cleanup() {
    if [ -n "$GEN_PID" ]; then kill "$GEN_PID" 2>/dev/null || true; fi
    if [ -n "$DATA_DIR" ]; then rm -rf "$DATA_DIR"; fi
    # Outputs can be GiBs: never leave them behind.
    if [ "$MEASURING" = 1 ]; then rm -rf "$OUT" "$BENCH_DIR/restic-cache"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Input tree: about SIZE_MIB MiB, half compressible log-like text, half
# incompressible random bytes, in many files over a few directories, plus a
# few hundred small files (per-file overhead). Generated once and cached.
#
# Every text line is unique (sequence number, random fields), so neither
# zstd's window nor restic's content-defined dedup gets a free ride from
# repeated blocks: all tools do the same real work.
# ---------------------------------------------------------------------------
generate_text() { # generate_text DIR FILES BYTES_PER_FILE   (run it with &)
    # mawk is ~2x faster than gawk here; both are deterministic for a seed.
    local awk_bin=awk
    command -v mawk >/dev/null 2>&1 && awk_bin=mawk
    # One awk process writes all files (no per-file process start-up).
    # exec: the background subshell becomes awk itself, so $! is awk's pid
    # and the cleanup trap's kill stops the writer, not just its parent.
    exec "$awk_bin" -v dir="$1" -v files="$2" -v bytes="$3" '
    BEGIN {
        split("INFO INFO INFO INFO DEBUG DEBUG WARN ERROR", lv, " ")
        split("GET GET GET POST POST PUT DELETE PATCH", mt, " ")
        split("users orders invoices products sessions reports backups jobs", rs, " ")
        split("200 200 200 200 201 204 304 400 404 500", st, " ")
        split("a b c d", sub_dirs, " ")
        seq = 0
        for (f = 0; f < files; f++) {
            srand(f + 1)  # per-file seed: reproducible, and files differ
            out = sprintf("%s/%s/app-%02d.log", dir, sub_dirs[1 + f % 4], f)
            t = 1700000000 + f * 86400; n = 0
            while (n < bytes) {
                t += int(rand() * 3); seq++
                s = sprintf("2023-11-%02d %02d:%02d:%02d.%03d %-5s [worker-%d] req=%08x %s /api/v1/%s/%d status=%s dur_ms=%d bytes=%d seq=%d\n",
                    1 + int(t / 86400) % 28, int(t / 3600) % 24, int(t / 60) % 60, t % 60,
                    int(rand() * 1000), lv[1 + int(rand() * 8)], int(rand() * 16),
                    int(rand() * 4294967295), mt[1 + int(rand() * 8)], rs[1 + int(rand() * 8)],
                    int(rand() * 100000), st[1 + int(rand() * 10)], int(rand() * 2000),
                    int(rand() * 65536), seq)
                printf "%s", s > out
                n += length(s)
            }
            close(out)
        }
    }'
}

generate_random() { # generate_random DIR FILES BYTES_PER_FILE
    local i dirs=(a b c d)
    for ((i = 0; i < $2; i++)); do
        # Streams straight to the file; never buffered in memory.
        head -c "$3" /dev/urandom >"$(printf '%s/%s/blob-%02d.bin' "$1" "${dirs[i % 4]}" "$i")"
    done
}

generate_small() { # generate_small DIR COUNT: small config/source-like files
    local awk_bin=awk
    command -v mawk >/dev/null 2>&1 && awk_bin=mawk
    "$awk_bin" -v dir="$1" -v count="$2" '
    BEGIN {
        srand(4242)
        for (i = 0; i < count; i++) {
            out = sprintf("%s/%02d/file-%04d.conf", dir, i % 16, i)
            lines = 10 + int(rand() * 200)  # ~0.3 to ~8 KiB each
            for (l = 0; l < lines; l++)
                printf "key_%d_%d = \"%08x\"  # setting %d of file %d\n", i, l, int(rand() * 4294967295), l, i > out
            close(out)
        }
    }'
}

generate_tree() {
    local tmp=$TREE.tmp files=64
    local half=$((SIZE_MIB * 1024 * 1024 / 2))
    local per_file=$((half / files))
    log "generating $TREE (~$SIZE_MIB MiB: $files text + $files random files of $((per_file / 1024)) KiB, 512 small files)"
    rm -rf "$tmp" "$TREE" "$MARKER"
    mkdir -p "$tmp"/text/{a,b,c,d} "$tmp"/random/{a,b,c,d}
    mkdir -p "$tmp"/small/{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15}
    # Text (awk, CPU-bound) and random (kernel RNG) in parallel: 2 cores.
    generate_text "$tmp/text" "$files" "$per_file" &
    GEN_PID=$!
    generate_random "$tmp/random" "$files" "$per_file"
    generate_small "$tmp/small" 512
    wait "$GEN_PID" || die "text generation failed"
    GEN_PID=""
    # Rename only when complete, then mark: an interrupted run leaves only
    # *.tmp (or no marker), and the next run starts over.
    mv "$tmp" "$TREE"
    # Flush now, so writeback of the new tree does not run during the first
    # measurements.
    sync
    touch "$MARKER"
}

if [ -f "$MARKER" ] && [ -d "$TREE" ]; then
    log "reusing cached tree $TREE"
else
    start=$(date +%s)
    generate_tree
    log "generated in $(($(date +%s) - start)) s"
fi

input_bytes=$(du -sb "$TREE" | cut -f1)
input_files=$(find "$TREE" -type f | wc -l)
input_mib=$(awk -v b="$input_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
log "input: $input_mib MiB in $input_files files"

[ "$GENERATE_ONLY" = 1 ] && exit 0

# ---------------------------------------------------------------------------
# Measurements.
# ---------------------------------------------------------------------------
mkdir -p "$LOGS"
RESULTS=$BENCH_DIR/results.tsv # tool, run, wall s, max RSS KiB, output bytes
: >"$RESULTS"
MEASURING=1

fresh_out() { # empty output dir, and no dirty pages left by the previous run
    rm -rf "$OUT" "$BENCH_DIR/restic-cache"
    if [ -n "$DATA_DIR" ]; then rm -rf "$DATA_DIR"; fi
    DATA_DIR=""
    mkdir -p "$OUT"
    # The previous tool's output may still be in the page cache waiting for
    # writeback; flush it (untimed) so it does not slow the next timed run.
    sync
}

timed() { # timed TOOL RUN COMMAND... : run under GNU time, record a row
    local tool=$1 run=$2 tfile=$LOGS/$1-$2.time logf=$LOGS/$1-$2.log
    shift 2
    # -o: time's report goes to its own file, never mixed with the command's
    # output. %e = wall seconds, %M = peak RSS in KiB.
    if ! /usr/bin/time -f '%e %M' -o "$tfile" "$@" >"$logf" 2>&1; then
        tail -n 30 "$logf" >&2
        die "$tool run $run failed (log: $logf)"
    fi
    local wall rss out_bytes
    # Last line: GNU time may prepend a status line to the file.
    read -r wall rss < <(tail -n 1 "$tfile")
    out_bytes=$(du -sb "$OUT" | cut -f1)
    printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$run" "$wall" "$rss" "$out_bytes" >>"$RESULTS"
    log "$(printf '%-16s run %d: %6.2f s  %7.1f MiB RSS' "$tool" "$run" "$wall" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')")"
}

run_baseline() {
    fresh_out
    # The whole pipeline is timed as one command. GNU time's %M is the
    # largest peak RSS of any single process in the tree it waits for (not
    # the sum): here effectively zstd's, tar being small. bash rather than
    # sh for pipefail, so a tar error fails the run instead of being masked.
    timed baseline "$1" bash -c 'set -o pipefail; tar -cf - -C "$1" . | zstd -T0 -3 -q -o "$2"' \
        bash "$TREE" "$OUT/baseline.tar.zst"
}

run_sauve() { # run_sauve TOOL RUN [extra job create args]
    local tool=$1 run=$2
    shift 2
    fresh_out
    mkdir -p "$OUT/sauve"
    # A throwaway data dir per run: an empty metadata store, like a first
    # backup; created under BENCH_DIR so the EXIT trap cleans it.
    DATA_DIR=$(mktemp -d -p "$BENCH_DIR" data.XXXXXX)
    "$SAUVE_BIN" --data-dir "$DATA_DIR" job create bench \
        --source "files://$TREE" --dest "file://$OUT/sauve" "$@" >"$LOGS/$tool-$run.create.log" 2>&1 ||
        { cat "$LOGS/$tool-$run.create.log" >&2; die "$tool: job create failed"; }
    timed "$tool" "$run" "$SAUVE_BIN" --data-dir "$DATA_DIR" backup run bench --json
    if [ "$tool" = sauve-encrypted ]; then
        # Its restore too: the passphrase's key derivation is paid again there.
        local id
        # From the store, not the run's log, which holds stderr too.
        id=$("$SAUVE_BIN" --data-dir "$DATA_DIR" backup list --job bench --json | jq -r '.[0].id')
        rm -rf "$BENCH_DIR/restored"
        timed sauve-encrypted-restore "$run" "$SAUVE_BIN" --data-dir "$DATA_DIR" restore "$id" \
            --to "$BENCH_DIR/restored" --passphrase-env SAUVE_BENCH_PASSPHRASE
        rm -rf "$BENCH_DIR/restored"
    fi
}

run_baseline_fsync() {
    fresh_out
    timed baseline-fsync "$1" bash -c 'set -o pipefail; tar -cf - -C "$1" . | zstd -T0 -3 -q -o "$2" && sync "$2"' \
        bash "$TREE" "$OUT/baseline.tar.zst"
}

run_restic() {
    fresh_out
    # A fresh repository and cache each run, so every run is a first backup
    # (no dedup against an earlier run). Init is not timed.
    export RESTIC_CACHE_DIR=$BENCH_DIR/restic-cache
    RESTIC_PASSWORD=bench restic init --repo "$OUT/restic" >"$LOGS/restic-$1.init.log" 2>&1 ||
        { cat "$LOGS/restic-$1.init.log" >&2; die "restic init failed"; }
    timed restic "$1" env RESTIC_PASSWORD=bench restic backup --repo "$OUT/restic" "$TREE" -q
}

log "tools: $TOOLS; runs: $RUNS; cores: $(nproc)"
versions="$(zstd -V | head -n 1); $(tar --version | head -n 1)"
if wants restic; then versions+="; $(restic version)"; fi
log "versions: $versions"
if wants sauve || wants sauve-encrypted; then
    log "sauve: $SAUVE_BIN ($( ("$SAUVE_BIN" --version 2>/dev/null || echo "version unknown") | head -n 1))"
fi

# Warm the page cache once so the first tool measured is not the only one
# that reads from disk (the tree fits in RAM on this machine, even at 10 GiB).
log "warming page cache"
tar -cf - -C "$TREE" . >/dev/null

# Interleave the tools within each round (baseline, sauve, ..., then again)
# so slow drift on the machine (other jobs, thermal) hits all tools alike.
for ((run = 1; run <= RUNS; run++)); do
    for tool in $TOOLS; do
        case $tool in
            baseline) run_baseline "$run" ;;
            baseline-fsync) run_baseline_fsync "$run" ;;
            sauve) run_sauve sauve "$run" ;;
            sauve-encrypted) run_sauve sauve-encrypted "$run" --encrypt-passphrase-env SAUVE_BENCH_PASSPHRASE ;;
            restic) run_restic "$run" ;;
        esac
    done
done

# ---------------------------------------------------------------------------
# Report: medians over the runs, as a markdown table for BENCHMARKS.md.
# ---------------------------------------------------------------------------
median() { # median TOOL COLUMN -> median of that column over the tool's runs
    awk -F'\t' -v t="$1" -v c="$2" '$1 == t { print $c }' "$RESULTS" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

baseline_tput="" fsync_tput=""
if wants baseline; then
    baseline_tput=$(awk -v m="$input_mib" -v w="$(median baseline 3)" 'BEGIN { print m / w }')
fi
if wants baseline-fsync; then
    fsync_tput=$(awk -v m="$input_mib" -v w="$(median baseline-fsync 3)" 'BEGIN { print m / w }')
fi

echo
echo "Input: $input_mib MiB in $input_files files ($TREE), $RUNS runs each, $(nproc) cores; medians."
echo
echo "| tool | wall s | MiB/s | vs baseline | vs baseline-fsync | peak RSS MiB | output MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
reported=$TOOLS
wants sauve-encrypted && reported+=" sauve-encrypted-restore"
for tool in $reported; do
    wall=$(median "$tool" 3)
    rss=$(median "$tool" 4)
    outb=$(median "$tool" 5)
    awk -v t="$tool" -v w="$wall" -v r="$rss" -v o="$outb" -v m="$input_mib" -v b="$baseline_tput" -v f="$fsync_tput" 'BEGIN {
        tput = m / w
        ratio = (b == "") ? "n/a" : sprintf("%.2fx", tput / b)
        fratio = (f == "") ? "n/a" : sprintf("%.2fx", tput / f)
        printf "| %s | %.2f | %.0f | %s | %s | %.1f | %.1f |\n", t, w, tput, ratio, fratio, r / 1024, o / 1048576
    }'
done
echo
echo "Raw rows (tool, run, wall s, peak RSS KiB, output bytes): $RESULTS"
