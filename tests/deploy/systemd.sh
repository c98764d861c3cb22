#!/usr/bin/env bash
# tests/deploy/systemd.sh — checks the systemd units in deploy/systemd/ with
# Debian's systemd tools (the `systemd` package: systemd-analyze 252 on
# Debian 12), python3 and curl. Needs no running systemd, no root and no
# network beyond loopback; installs nothing. Exits non-zero, saying what is
# wrong, at the first failure.
#
#   tests/deploy/systemd.sh
#   SAUVE_MAX_EXPOSURE=2.0 tests/deploy/systemd.sh   # the security ceiling
#
# 1. The directives the deployment relies on are there (deleting one fails).
# 2. `systemd-analyze verify` prints nothing for each unit (it exits 0 on
#    warnings such as an unknown key or a bad value, so its output is read).
# 3. `systemd-analyze security --offline=yes` rates sauve.service at most
#    SAUVE_MAX_EXPOSURE (and the timer's service too).
# 4. TimeoutStopSec exceeds sauve.toml's grace_secs by 30 s or more.
# 5. The timer's ExecStart, run by /bin/sh as systemd would run it, sends
#    `POST /api/cron/backup?job=JOB` with the secret from
#    $CREDENTIALS_DIRECTORY to a loopback receiver, with the secret in no
#    process's command line, and fails when refused or without a secret.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

UNITS=deploy/systemd
MAX_EXPOSURE=${SAUVE_MAX_EXPOSURE:-2.0}
export SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat LC_ALL=C.UTF-8

total_start=$(date +%s.%N)
elapsed_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }
fail() {
    echo "FAIL: $*" >&2
    echo "==> systemd units: FAILED after $(elapsed_since "$total_start") s" >&2
    exit 1
}
step_start=
step() { step_start=$(date +%s.%N); echo "--> $*"; }
done_step() { echo "    ok in $(elapsed_since "$step_start") s"; }

command -v systemd-analyze >/dev/null ||
    fail "systemd-analyze not found: install Debian's systemd package (apt-get install systemd)"
version=$(systemd-analyze --version | awk 'NR == 1 { print $2 }')
echo "systemd-analyze $version ($(command -v systemd-analyze))"
[[ $version =~ ^[0-9]+$ ]] && ((version >= 250)) ||
    fail "systemd $version is too old: security --offline needs 250 or newer"

tmp=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# ---- 1. required directives ------------------------------------------------

step "required directives"
# require FILE LINE: LINE must appear exactly (whole line) in FILE.
require() {
    grep -qxF -- "$2" "$UNITS/$1" || fail "$UNITS/$1 lacks the line '$2'"
}
# require_part FILE KEY FRAGMENT: a KEY= line of FILE contains FRAGMENT.
require_part() {
    local lines
    lines=$(grep -E "^$2=" "$UNITS/$1" || true)
    [ -n "$lines" ] && grep -qF -- "$3" <<<"$lines" ||
        fail "$UNITS/$1: no $2= line contains '$3'"
}
for line in \
    Type=notify NotifyAccess=main WatchdogSec=30s \
    Restart=on-failure KillMode=mixed \
    User=sauve Group=sauve DynamicUser=no \
    StateDirectory=sauve StateDirectoryMode=0700 ConfigurationDirectory=sauve \
    LoadCredential=cron-secret:/etc/sauve/cron-secret \
    ReadWritePaths=/var/backups/sauve UMask=0077 \
    ProtectSystem=strict ProtectHome=true PrivateTmp=true PrivateDevices=true \
    NoNewPrivileges=true CapabilityBoundingSet= AmbientCapabilities= \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' RestrictNamespaces=true \
    LockPersonality=true MemoryDenyWriteExecute=true \
    SystemCallFilter=@system-service SystemCallArchitectures=native \
    WantedBy=multi-user.target; do
    require sauve.service "$line"
done
require_part sauve.service ExecStart '/usr/local/bin/sauve serve --config /etc/sauve/sauve.toml'
require_part sauve.service ExecStart '--cron-secret-file ${CREDENTIALS_DIRECTORY}/cron-secret'
require_part sauve.service TimeoutStopSec ''
for line in Type=oneshot DynamicUser=yes LoadCredential=cron-secret:/etc/sauve/cron-secret \
    Environment=SAUVE_URL=http://127.0.0.1:8080; do
    require sauve-backup@.service "$line"
done
require_part sauve-backup@.service ExecStart '/api/cron/backup?job=%i'
require_part sauve-backup@.service ExecStart '--header @-'
require_part sauve-backup@.timer OnCalendar ''
for line in Persistent=true WantedBy=timers.target; do
    require sauve-backup@.timer "$line"
done
[ -f "$UNITS/sauve.toml" ] || fail "$UNITS/sauve.toml is missing"
grep -qE '^cron_secret[[:space:]]*=' "$UNITS/sauve.toml" &&
    fail "$UNITS/sauve.toml sets cron_secret: a secret has no place in the config file"
done_step

# ---- 2. systemd-analyze verify ---------------------------------------------

step "systemd-analyze verify"
# verify checks that ExecStart's program exists and is executable; the
# committed unit names /usr/local/bin/sauve, which a test machine need not
# have. The copies checked name a stub instead; nothing else changes.
# (`--root=DIR` is no way out: it also looks for sysinit.target and the
# rest of the unit tree under DIR.)
mkdir -p "$tmp/bin" "$tmp/units"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/sauve"
chmod 755 "$tmp/bin/sauve"
for f in sauve.service sauve-backup@.service sauve-backup@.timer; do
    sed "s#/usr/local/bin/sauve#$tmp/bin/sauve#g" "$UNITS/$f" >"$tmp/units/$f"
done
grep -q "^ExecStart=$tmp/bin/sauve serve" "$tmp/units/sauve.service" ||
    fail "the stub did not replace sauve.service's ExecStart program"
# An instance as people enable it, beside the templates (which verify
# instantiates as "i").
ln -s 'sauve-backup@.service' "$tmp/units/sauve-backup@app-db.service"
ln -s 'sauve-backup@.timer' "$tmp/units/sauve-backup@app-db.timer"
# Lines verify may print that do not mean a unit is wrong, as extended
# regular expressions, each with its reason. None is printed by Debian 12's
# systemd 252 for these units. (User=sauve needs no such line: verify does
# not look users up; systemd resolves User= when the unit starts.)
BENIGN=()
for f in sauve.service sauve-backup@.service sauve-backup@.timer \
    sauve-backup@app-db.service sauve-backup@app-db.timer; do
    rc=0
    out=$(cd "$tmp/units" && systemd-analyze verify --man=no "./$f" 2>&1) || rc=$?
    left=$out
    for pattern in ${BENIGN[@]+"${BENIGN[@]}"}; do
        left=$(grep -Ev -- "$pattern" <<<"$left" || true)
    done
    if [ "$rc" -ne 0 ] || [ -n "$left" ]; then
        fail "systemd-analyze verify $f (exit $rc):"$'\n'"$out"
    fi
    echo "    $f: clean"
done
done_step

# ---- 3. systemd-analyze security -------------------------------------------

step "systemd-analyze security --offline=yes (ceiling $MAX_EXPOSURE)"
for f in sauve.service sauve-backup@.service; do
    out=$(cd "$tmp/units" && systemd-analyze security --offline=yes --no-pager "./$f" 2>&1) ||
        fail "systemd-analyze security $f failed:"$'\n'"$out"
    line=$(grep -E 'Overall exposure level for ' <<<"$out" | tail -n 1)
    score=$(sed -nE 's/.*: ([0-9]+\.[0-9]+) .*/\1/p' <<<"$line")
    [ -n "$score" ] || fail "no exposure level in the output of security $f:"$'\n'"$out"
    echo "    ${line#*Overall exposure level for }"
    awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' || {
        grep -E '^✗' <<<"$out" >&2 || true
        fail "$f: exposure $score is above $MAX_EXPOSURE (the ✗ lines above say what is open)"
    }
done
done_step

# ---- 4. TimeoutStopSec leaves room beyond grace_secs -----------------------

step "TimeoutStopSec >= grace_secs + 30 s"
# Both in seconds: `90s`, `2min`, `1min 30s` are what the unit may say.
stop=$(sed -nE 's/^TimeoutStopSec=(.*)$/\1/p' "$UNITS/sauve.service" | tail -n 1)
stop_secs=$(awk -v t="$stop" 'BEGIN {
    n = split(t, parts, " "); total = 0
    for (i = 1; i <= n; i++) {
        p = parts[i]
        if (p ~ /^[0-9]+(s|sec)?$/) { sub(/[a-z]+$/, "", p); total += p }
        else if (p ~ /^[0-9]+(m|min)$/) { sub(/[a-z]+$/, "", p); total += 60 * p }
        else { print "bad"; exit }
    }
    print total }')
[[ $stop_secs =~ ^[0-9]+$ ]] || fail "cannot read TimeoutStopSec=$stop"
grace=$(sed -nE 's/^grace_secs[[:space:]]*=[[:space:]]*([0-9]+).*/\1/p' "$UNITS/sauve.toml")
grace=${grace:-30}
((stop_secs >= grace + 30)) ||
    fail "TimeoutStopSec=$stop leaves less than 30 s beyond grace_secs = $grace: runs would be killed instead of handed back"
echo "    grace_secs $grace s, TimeoutStopSec $stop_secs s"
done_step

# ---- 5. the timer's request ------------------------------------------------

step "sauve-backup@.service's ExecStart against a loopback receiver"
if ! command -v python3 >/dev/null; then
    fail "python3 is needed for the receiver (Debian: apt-get install python3)"
fi
[ -x /usr/bin/curl ] || fail "/usr/bin/curl is missing: sauve-backup@.service runs it (apt-get install curl)"
[ -x /bin/sh ] || fail "/bin/sh is missing"
exec_start=$(grep -E '^ExecStart=' "$UNITS/sauve-backup@.service")
[ "$(wc -l <<<"$exec_start")" -eq 1 ] || fail "sauve-backup@.service must have one ExecStart="
value=${exec_start#ExecStart=}
prefix="/bin/sh -c '"
[[ $value == "$prefix"*"'" ]] || fail "sauve-backup@.service's ExecStart must be /bin/sh -c '…'"
script=${value#"$prefix"}
script=${script%"'"}
# systemd turns %% into %, %i into the instance and $$ into $ and expands
# $VAR / ${VAR} itself; the script uses only the first three (and no quote
# or backslash systemd would unquote), so this emulation is exact. Anything
# else would make it inexact: refuse it.
rest=${script//%%/}
rest=${rest//%i/}
[[ $rest == *%* ]] && fail "ExecStart uses a specifier other than %i or %%"
rest=${script//\$\$/}
[[ $rest == *\$* ]] && fail "ExecStart has a lone \$ (systemd would expand it): write \$\$ for the shell"
[[ $script == *"'"* || $script == *\\* ]] && fail "ExecStart's script has a quote or a backslash inside '…'"
job=app-db
script=$(SCRIPT=$script JOB=$job python3 -c '
import os
s = os.environ["SCRIPT"].replace("%%", "\0").replace("%i", os.environ["JOB"]).replace("\0", "%")
print(s.replace("$$", "$"), end="")')

secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$secret" >"$tmp/expected"
cat >"$tmp/receiver.py" <<'EOF'
# Answers POST /api/cron/backup like Sauve: 200 for the right bearer, 401
# otherwise; records each request, and which processes showed the secret in
# their command line while the request was in flight.
import http.server, json, os, sys
secret = open(sys.argv[1]).read().strip()
log = open(sys.argv[2], "a")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        leaks = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                argv = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
            except OSError:
                continue
            if secret in argv:
                leaks.append(argv.replace("\0", " "))
        auth = self.headers.get("Authorization")
        log.write(json.dumps({"method": self.command, "path": self.path,
                              "auth": auth, "leaks": leaks}) + "\n")
        log.flush()
        ok = auth == "Bearer " + secret
        body = b'{"enqueued":[]}' if ok else b'{"code":"unauthorized"}'
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
EOF
python3 "$tmp/receiver.py" "$tmp/expected" "$tmp/requests" >"$tmp/port" &
server_pid=$!
for _ in $(seq 100); do
    [ -s "$tmp/port" ] && break
    sleep 0.05
done
port=$(head -n 1 "$tmp/port")
[[ $port =~ ^[0-9]+$ ]] || fail "the receiver did not start"

# run_unit CREDENTIALS_DIR: the script as systemd runs it (a clean
# environment plus what the unit and systemd set).
run_unit() {
    env -i PATH=/usr/local/bin:/usr/bin:/bin CREDENTIALS_DIRECTORY="$1" \
        SAUVE_URL="http://127.0.0.1:$port" /bin/sh -c "$script"
}
requests() { [ -f "$tmp/requests" ] && wc -l <"$tmp/requests" || echo 0; }
check_last() {
    python3 - "$tmp/requests" "$secret" "$job" <<'EOF' || fail "the request was not as expected"
import json, sys
last = json.loads(open(sys.argv[1]).read().splitlines()[-1])
want = {"method": "POST", "path": "/api/cron/backup?job=" + sys.argv[3],
        "auth": "Bearer " + sys.argv[2], "leaks": []}
if last != want:
    sys.exit(f"    got  {last}\n    want {want}")
EOF
}
mkdir -p "$tmp/cred-newline" "$tmp/cred-bare" "$tmp/cred-wrong" "$tmp/cred-none"
printf '%s\n' "$secret" >"$tmp/cred-newline/cron-secret"   # as `openssl rand -hex 32 >` writes it
printf '%s' "$secret" >"$tmp/cred-bare/cron-secret"        # no final newline
printf '%s\n' "not-the-secret-$secret" >"$tmp/cred-wrong/cron-secret"

run_unit "$tmp/cred-newline" >/dev/null || fail "the unit failed with the right secret (newline-terminated)"
check_last
echo "    secret file ending in a newline: POST /api/cron/backup?job=$job, bearer sent, secret in no argv"
run_unit "$tmp/cred-bare" >/dev/null || fail "the unit failed with the right secret (no final newline)"
check_last
echo "    secret file without a final newline: same"
before=$(requests)
if run_unit "$tmp/cred-wrong" >/dev/null 2>&1; then
    fail "the unit succeeded although Sauve answered 401"
fi
[ "$(requests)" -eq $((before + 1)) ] || fail "a refused request was retried or not sent"
echo "    a refused secret (401): the unit fails"
before=$(requests)
if run_unit "$tmp/cred-none" >/dev/null 2>&1; then
    fail "the unit succeeded without a secret"
fi
[ "$(requests)" -eq "$before" ] || fail "the unit sent a request without a secret"
echo "    no secret: the unit fails and sends nothing"
done_step

echo "==> systemd units: ok in $(elapsed_since "$total_start") s"
