#!/usr/bin/env bash
# benches/disk.sh — why a backup written where earlier artifacts were is
# measured slower than one written into fresh space (issue "Performance").
#
#   benches/disk.sh              # 640 MiB files (a 1 GiB tree's artifact), 3 runs
#   SIZE_MIB=256 RUNS=5 benches/disk.sh
#
# Writes one file of SIZE_MIB with `dd … conv=fsync` (as a backup's artifact
# is written and fsynced) in four situations, and prints the median wall time
# of each:
#   fresh    into an empty directory, nothing pending on the disk;
#   beside   next to three earlier artifacts, written and synced before;
#   deleted  just after three earlier artifacts were deleted (rm, then sync);
#   dirty    just after three earlier artifacts were written and not synced
#            (their pages still waiting for writeback, as right after an
#            earlier backup or benchmark run).
# Nothing here is Sauve: it measures the disk under the same writes.
set -euo pipefail
export LC_ALL=C
SIZE_MIB=${SIZE_MIB:-640}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/sauve-disk-bench}
rm -rf "$DIR" && mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
src=$DIR/src
head -c $((SIZE_MIB << 20)) /dev/urandom >"$src"

write() { # write PATH [conv] -> wall seconds
    local t0 t1
    t0=$(date +%s.%N)
    dd if="$src" of="$1" bs=1M conv="${2:-fsync}" status=none
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}
earlier() { # earlier [conv]: three artifacts written the way conv says
    for i in 1 2 3; do dd if="$src" of="$DIR/earlier-$i" bs=1M conv="${1:-fsync}" status=none; done
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A times
for ((r = 1; r <= RUNS; r++)); do
    rm -f "$DIR"/earlier-* "$DIR/out"; sync
    times[fresh]+="$(write "$DIR/out") "
    rm -f "$DIR/out"; sync
    earlier fsync
    times[beside]+="$(write "$DIR/out") "
    rm -f "$DIR/out" "$DIR"/earlier-*; sync
    earlier fsync
    rm -f "$DIR"/earlier-*; sync
    times[deleted]+="$(write "$DIR/out") "
    rm -f "$DIR/out"; sync
    earlier notrunc
    times[dirty]+="$(write "$DIR/out") "
    rm -f "$DIR/out" "$DIR"/earlier-*; sync
done
echo "| situation | median wall s ($SIZE_MIB MiB, fsync, $RUNS runs) | vs fresh |"
echo "|---|---:|---:|"
fresh=$(tr ' ' '\n' <<<"${times[fresh]}" | grep . | median)
for k in fresh beside deleted dirty; do
    m=$(tr ' ' '\n' <<<"${times[$k]}" | grep . | median)
    awk -v k="$k" -v m="$m" -v f="$fresh" 'BEGIN { printf "| %s | %.2f | %.2fx |\n", k, m, m / f }'
done
echo
echo "mount: $(findmnt -no FSTYPE,OPTIONS -T "$DIR"); dirty_ratio $(sysctl -n vm.dirty_ratio), dirty_background_ratio $(sysctl -n vm.dirty_background_ratio)"
