#!/usr/bin/env bash
# benches/disk.sh — why a backup written where earlier artifacts were is
# measured slower than one written into fresh space (issue "Performance").
#
#   benches/disk.sh              # 640 MiB files (a 1 GiB tree's artifact), 3 runs
#   SIZE_MIB=256 RUNS=5 benches/disk.sh
#
# Writes one file of SIZE_MIB with `dd bs=1M conv=fsync` (as a backup's
# artifact was written, 1 MiB a call, then fsynced) in four situations, and
# prints the median wall and system time of each:
#   fresh    into an empty directory, nothing pending on the disk;
#   beside   next to three earlier artifacts, written and synced before;
#   deleted  just after three earlier artifacts were deleted (rm, then sync);
#   dirty    just after three earlier artifacts were written and not synced
#            (their pages still waiting for writeback, as right after an
#            earlier backup or benchmark run).
# and then the fresh and beside cases again with 256 KiB and 128 KiB writes
# (Sauve writes local files 256 KiB a call, `zstd -o` 128 KiB). Nothing here is Sauve: it measures the disk and the
# kernel under the same writes.
set -euo pipefail
export LC_ALL=C
SIZE_MIB=${SIZE_MIB:-640}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/sauve-disk-bench}
rm -rf "$DIR" && mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
src=$DIR/src
head -c $((SIZE_MIB << 20)) /dev/urandom >"$src"

write() { # write PATH [BS] -> "wall,sys" seconds
    /usr/bin/time -f "%e,%S" -o "$DIR/time" dd if="$src" of="$1" bs="${2:-1M}" conv=fsync status=none
    cat "$DIR/time"
}
earlier() { # earlier [conv]: three artifacts written the way conv says
    for i in 1 2 3; do dd if="$src" of="$DIR/earlier-$i" bs=1M conv="${1:-fsync}" status=none; done
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
med() { # med KEY COLUMN(1 wall, 2 sys)
    tr ' ' '\n' <<<"${times[$1]}" | grep . | cut -d, -f"$2" | median
}

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
    times[fresh-256k]+="$(write "$DIR/out" 256K) "
    rm -f "$DIR/out"; sync
    times[fresh-128k]+="$(write "$DIR/out" 128K) "
    rm -f "$DIR/out"; sync
    # The slow case again, in the write sizes Sauve and zstd use.
    earlier fsync
    times[beside-256k]+="$(write "$DIR/out" 256K) "
    rm -f "$DIR/out" "$DIR"/earlier-*; sync
    earlier fsync
    times[beside-128k]+="$(write "$DIR/out" 128K) "
    rm -f "$DIR/out" "$DIR"/earlier-*; sync
done
echo "| situation | wall s | system s | wall vs fresh |"
echo "|---|---:|---:|---:|"
fresh=$(med fresh 1)
for k in fresh beside deleted dirty fresh-256k fresh-128k beside-256k beside-128k; do
    awk -v k="$k" -v m="$(med "$k" 1)" -v y="$(med "$k" 2)" -v f="$fresh" \
        'BEGIN { printf "| %s | %.2f | %.2f | %.2fx |\n", k, m, y, m / f }'
done
echo
echo "$SIZE_MIB MiB per file, medians of $RUNS runs."
echo
echo "mount: $(findmnt -no FSTYPE,OPTIONS -T "$DIR"); dirty_ratio $(sysctl -n vm.dirty_ratio), dirty_background_ratio $(sysctl -n vm.dirty_background_ratio)"
