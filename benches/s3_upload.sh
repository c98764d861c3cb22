#!/usr/bin/env bash
# benches/s3_upload.sh — upload throughput and peak memory of a backup to the
# loopback S3 server (Garage, from scripts/garage), against that server's raw
# PUT of the same bytes (issue "Object storage"; results in BENCHMARKS.md).
#
#   benches/s3_upload.sh                 # 1 GiB, 3 runs of each
#   SIZE_MIB=4096 RUNS=1 benches/s3_upload.sh
#
#   raw    curl --aws-sigv4 -T FILE: one signed PUT of the file, streamed by curl
#   sauve  sauve backup run: a command source `cat FILE`, through zstd and
#          sha256, to s3:// as a multipart upload (16 MiB parts, 3 in flight)
#   local  the same job to a local directory: Sauve's memory without S3 parts
#
# FILE is random (incompressible), so the artifact has as many bytes as the
# raw PUT sends. Ratio = raw wall time / sauve wall time (1.0 = as fast as the
# server takes a plain PUT). It builds nothing: `cargo build --release` first,
# or point SAUVE_BIN at a binary.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/sauve-s3-bench}
SAUVE_BIN=${SAUVE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/sauve/target}/release/sauve}
[ -x "$SAUVE_BIN" ] || { echo "no sauve binary at $SAUVE_BIN: cargo build --release" >&2; exit 2; }

eval "$(bash scripts/garage)"
export BENCH_S3_KEY=$SAUVE_TEST_S3_KEY_ID BENCH_S3_SECRET=$SAUVE_TEST_S3_SECRET

mkdir -p "$BENCH_DIR"
FILE=$BENCH_DIR/random-$SIZE_MIB.bin
if [ ! -f "$FILE.complete" ]; then
    head -c "$((SIZE_MIB << 20))" /dev/urandom >"$FILE"
    touch "$FILE.complete"
fi

prefix="bench-$(date +%s)"
dest="s3://$SAUVE_TEST_S3_BUCKET/$prefix?endpoint=$SAUVE_TEST_S3_ENDPOINT&region=$SAUVE_TEST_S3_REGION&access_key_env=BENCH_S3_KEY&secret_key_env=BENCH_S3_SECRET"
data=$BENCH_DIR/data
rm -rf "$data"
cat >"$BENCH_DIR/job.toml" <<TOML
[[job]]
name = "bench"
destinations = ["$dest"]
compression_level = 1
# The upload alone: the read-back that follows a remote backup by default
# (verify_after_backup) downloads and decodes it all again, and is timed apart.
verify_after_backup = false
[job.source]
kind = "command"
command = ["cat", "$FILE"]
extension = "bin"
TOML
sed -e 's/name = "bench"/name = "bench-local"/' -e "s|\"$dest\"|\"$BENCH_DIR/local\"|" \
    "$BENCH_DIR/job.toml" >"$BENCH_DIR/local.toml"
"$SAUVE_BIN" --data-dir "$data" job apply "$BENCH_DIR/job.toml" >/dev/null
"$SAUVE_BIN" --data-dir "$data" job apply "$BENCH_DIR/local.toml" >/dev/null

# run NAME COMMAND... : wall seconds, peak RSS (KiB) and CPU seconds of one run.
run() {
    local name=$1
    shift
    /usr/bin/time -f "%e %M %U %S" -o "$BENCH_DIR/time" "$@" >/dev/null 2>"$BENCH_DIR/$name.err" \
        || { cat "$BENCH_DIR/$name.err" >&2; exit 1; }
    awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$BENCH_DIR/time"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

raw_times=() sauve_times=() sauve_rss=() raw_rss=() local_rss=() raw_cpu=() sauve_cpu=()
for i in $(seq 1 "$RUNS"); do
    read -r t m c < <(run raw curl -sS --fail --aws-sigv4 "aws:amz:$SAUVE_TEST_S3_REGION:s3" \
        --user "$BENCH_S3_KEY:$BENCH_S3_SECRET" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
        -T "$FILE" "$SAUVE_TEST_S3_ENDPOINT/$SAUVE_TEST_S3_BUCKET/$prefix/raw-$i.bin")
    raw_times+=("$t") raw_rss+=("$m") raw_cpu+=("$c")
    read -r t m c < <(run sauve env SAUVE_LOG=warn "$SAUVE_BIN" --data-dir "$data" backup run bench --json)
    sauve_times+=("$t") sauve_rss+=("$m") sauve_cpu+=("$c")
    echo "run $i: raw PUT ${raw_times[-1]} s, sauve ${t} s (peak RSS $((m / 1024)) MiB, CPU $c s)"
    read -r _ m _ < <(run local env SAUVE_LOG=warn "$SAUVE_BIN" --data-dir "$data" backup run bench-local --json)
    local_rss+=("$m")
    rm -rf "$BENCH_DIR/local"
done

raw=$(printf '%s\n' "${raw_times[@]}" | median)
sv=$(printf '%s\n' "${sauve_times[@]}" | median)
rss=$(printf '%s\n' "${sauve_rss[@]}" | median)
rawrss=$(printf '%s\n' "${raw_rss[@]}" | median)
localrss=$(printf '%s\n' "${local_rss[@]}" | median)
rawcpu=$(printf '%s\n' "${raw_cpu[@]}" | median)
svcpu=$(printf '%s\n' "${sauve_cpu[@]}" | median)
awk -v raw="$raw" -v sv="$sv" -v rss="$rss" -v rawrss="$rawrss" -v localrss="$localrss" \
    -v rawcpu="$rawcpu" -v svcpu="$svcpu" -v mib="$SIZE_MIB" 'BEGIN {
    printf "\n%d MiB, medians of %s runs\n", mib, "'"$RUNS"'"
    printf "%-12s %8s %8s %12s %10s\n", "", "wall s", "MiB/s", "peak RSS", "client CPU"
    printf "%-12s %8.2f %8.0f %8.0f MiB %8.2f s\n", "raw PUT", raw, mib / raw, rawrss / 1024, rawcpu
    printf "%-12s %8.2f %8.0f %8.0f MiB %8.2f s\n", "sauve", sv, mib / sv, rss / 1024, svcpu
    printf "%-12s %8s %8s %8.0f MiB\n", "sauve local", "", "", localrss / 1024
    printf "ratio (raw / sauve): %.2fx\n", raw / sv
}'
# Leave the bucket as it was.
"$SAUVE_BIN" --data-dir "$data" storage sweep "$dest" --older-than 0s >/dev/null || true
