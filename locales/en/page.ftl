# Sauve's pages in English: what the server renders. The script's own
# messages are in script.ftl. Every id here exists in fr/page.ftl too
# (tests/it/i18n.rs).

## Page and header
page-title = Backups · Sauve
login-title = Sign in · Sauve
heading = Backups
skip-to-jobs = Skip to the jobs
language = Language
signed-in-as = Signed in as { $user } ({ $role })
role-admin = admin
role-viewer = viewer
sign-out = Sign out
user-name = User name
password = Password
sign-in = Sign in

## Jobs at a glance
jobs = Jobs
no-jobs-create = No jobs yet: create one below.
no-jobs = No jobs yet.
status-healthy = Healthy
status-failing = { $failures ->
    [one] Failing since { $since } ({ $failures } failed run)
   *[other] Failing since { $since } ({ $failures } failed runs)
}
status-stale = Stale since { $since }: no backup stored in time
status-never = Never succeeded
strip-caption = Last 30 days
strip-as-table = Show as a table
strip-summary = Last { $days } days: { $ok } with every backup stored, { $partial } partly failed, { $failed } failed, { $none } without a backup run
outcome-none = no backup run
outcome-succeeded = succeeded
outcome-partial = partly failed
outcome-failed = failed
day-tip = { $day }: { $outcome } ({ $n })
strip-no-runs = No backup run in the last 30 days.
col-day = Day (UTC)
col-outcome = Outcome
col-succeeded = Succeeded
col-partial = Partial
col-failed = Failed
spark-size = Size of the last { $n } backups: from { $min } to { $max }, the newest { $last }
spark-duration = Duration of the last { $n } backups: from { $min } to { $max }, the newest { $last }
spark-size-caption = Size
spark-duration-caption = Duration
source = Source
destinations = Destinations
schedule = Schedule
next-run = Next run
last-run = Last run
last-good = Last good backup
older-than-allowed = older than the schedule allows
stale-after = stale after { $span } without a backup
proven = Proven restorable
notifies = Notifies
no-channel = no channel of its own
send-test = Send test
send-test-label = Send test to { $channel }
retention = Retention
backup-now = Back up now
edit-job = Edit job
prune-now = Apply retention now
never = never
run-ago = { $state } { $ago }

## Time
ago-now = just now
at-detail = { $when }: { $detail }
ago-minutes = { $n } min ago
ago-hours = { $n } h ago
ago-days = { $n ->
    [one] { $n } day ago
   *[other] { $n } days ago
}
span-seconds = { $n } s
span-minutes = { $n } min
span-hours = { $n } h
span-hours-minutes = { $h } h { $m } min
span-days = { $n ->
    [one] { $n } day
   *[other] { $n } days
}

## Schedules in words
only-on-demand = only on demand
sched-daily = every day at { $time } ({ $tz })
sched-weekly = every { $days } at { $time } ({ $tz })
sched-monthly = on the { $days } day of every month at { $time } ({ $tz })
sched-last-day = last
sched-every-hours = { $n ->
    [one] every hour
   *[other] every { $n } hours
}
sched-every-minutes = { $n ->
    [one] every minute
   *[other] every { $n } minutes
}
sched-every-seconds = { $n ->
    [one] every second
   *[other] every { $n } seconds
}
sched-cron = { $words } ({ $tz })
sched-cron-expr = cron "{ $expr }"
list-and = { $rest } and { $last }
weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
weekday-7 = Sunday
weekday-short-1 = mon
weekday-short-2 = tue
weekday-short-3 = wed
weekday-short-4 = thu
weekday-short-5 = fri
weekday-short-6 = sat
weekday-short-7 = sun

## The schedule editor
edit-schedule = Edit schedule
frequency = Frequency
freq-none = Only on demand
freq-daily = Daily
freq-weekly = Weekly
freq-monthly = Monthly
freq-every = Every N hours
freq-cron = Custom (cron)
time = Time
weekdays = Weekdays
days-of-month = Days of the month
days-of-month-example = 1,15 or last
every = Every
hours = hours
cron-expression = Cron expression
time-zone = Time zone
next-runs = Next runs:
save-schedule = Save schedule

## The job form
create-job = Create a job
name = Name
test-connection = Test connection
destinations-per-line = Destinations, one per line
test-destinations = Test destinations
recipients = Encrypt to age public keys, one per line (optional)
notify-per-line = Notify, one channel per line (optional)
notify-hint = Told once when the job starts failing, again every day while it fails, and when it works again; also when no backup was stored for too long. Credentials by name: slack://secret:NAME.
test-channels = Send a test to each
max-age = Alert when no backup for (optional)
schedule-optional = Schedule (optional)
retention-about = Which backups to keep, restic's rules: a backup kept by any rule stays. Leave a rule empty to leave it out.
retention-none = No rules: every backup is kept.
more-rules = More rules
plan-title = What this policy would do
plan-no-backups = No backups yet: nothing would be removed.
create-job-submit = Create job
cancel = Cancel

## Retention rules (the form's inputs)
example = e.g. { $value }
rule-keep_last = Keep last
rule-keep_last-hint = keep_last: the N newest backups; a number or unlimited
rule-keep_daily = Keep daily
rule-keep_daily-hint = keep_daily: the newest backup of each of the last N days that have one; a number or unlimited
rule-keep_weekly = Keep weekly
rule-keep_weekly-hint = keep_weekly: the newest of each of the last N ISO weeks (Monday to Sunday); a number or unlimited
rule-keep_monthly = Keep monthly
rule-keep_monthly-hint = keep_monthly: the newest of each of the last N months; a number or unlimited
rule-keep_yearly = Keep yearly
rule-keep_yearly-hint = keep_yearly: the newest of each of the last N years; a number or unlimited
rule-keep_within = Keep within
rule-keep_within-hint = keep_within: every backup made within this long before the newest one, e.g. 30d, 1y2m (y, m months, d, h)
rule-min_keep = Always keep at least
rule-min_keep-hint = min_keep: good backups that stay whatever the rules say; a number (default 1)
rule-trash_for = Trash for
rule-trash_for-hint = trash_for: how long a removed backup stays restorable before it is purged, e.g. 48h, 7d (default 24h; 0s purges at once)
rule-keep_hourly = Keep hourly
rule-keep_hourly-hint = keep_hourly: the newest of each of the last N hours that have one; a number or unlimited
rule-keep_within_hourly = Keep hourly within
rule-keep_within_hourly-hint = keep_within_hourly: the newest of each hour within this long before the newest backup, e.g. 2d
rule-keep_within_daily = Keep daily within
rule-keep_within_daily-hint = keep_within_daily: the newest of each day within this long before the newest backup, e.g. 30d
rule-keep_within_weekly = Keep weekly within
rule-keep_within_weekly-hint = keep_within_weekly: the newest of each ISO week within this long before the newest backup, e.g. 3m
rule-keep_within_monthly = Keep monthly within
rule-keep_within_monthly-hint = keep_within_monthly: the newest of each month within this long before the newest backup, e.g. 1y
rule-keep_within_yearly = Keep yearly within
rule-keep_within_yearly-hint = keep_within_yearly: the newest of each year within this long before the newest backup, e.g. 5y

## A retention policy in words
ret-every = Keeps every backup
ret-keeps = Keeps { $rules }
ret-last = the last { $n }
ret-last-all = all
ret-hourly = { $n } hourly
ret-hourly-forever = one an hour forever
ret-daily = { $n } daily
ret-daily-forever = one a day forever
ret-weekly = { $n } weekly
ret-weekly-forever = one a week forever
ret-monthly = { $n } monthly
ret-monthly-forever = one a month forever
ret-yearly = { $n } yearly
ret-yearly-forever = one a year forever
ret-within = all within { $span } of the newest
ret-within-hourly = hourly within { $span } of the newest
ret-within-daily = daily within { $span } of the newest
ret-within-weekly = weekly within { $span } of the newest
ret-within-monthly = monthly within { $span } of the newest
ret-within-yearly = yearly within { $span } of the newest
ret-min-keep = always at least { $n }
ret-trash = trash { $span }
ret-no-trash = no trash: purged at once
ret-and-trash = { $keeps }; { $trash }

## Proof
proof-newest = { $age } old (backup { $id }: { $how })
proof-verified = verified { $ago }
proof-tested = test-restored { $ago }
proof-files = { $n ->
    [one] { $n } file
   *[other] { $n } files
}
proof-tables = { $tables ->
    [one] { $tables } table
   *[other] { $tables } tables
}, { $rows ->
    [one] { $rows } row
   *[other] { $rows } rows
}
proof-none-tested = none yet: no backup both verified and test-restored
proof-none = none yet: no backup verified
proof-under-a-minute = under a minute
last-check = Last check: { $words }
check-verify = verification
check-test-restore = test restore
check-succeeded = { $what } succeeded { $ago }
check-ended = { $what } { $state } { $ago }
check-ended-error = { $what } { $state } { $ago }: { $error }
badge-verified = verified
badge-damaged = damaged
badge-test-restored = test-restored
badge-test-failed = test-failed
test-did-not-pass = did not pass

## Storage
storage = Storage
storage-about = What each destination holds: live backups and the trash, until purged. The growth is over the last 90 days.
storage-empty = Nothing stored yet.
col-destination = Destination
col-backups = Backups
col-stored = Stored
col-growth = 90 days
col-next-removals = What retention removes next
growth-words = { $change } in 90 days
growth-spark = Stored at this destination over 90 days: from { $min } to { $max }, today { $last }
job-deleted = { $job } (job deleted)
next-removals = { $job } ({ $n ->
    [one] { $n } backup
   *[other] { $n } backups
}, { $size })

## Backups
backups = Backups
no-backups = No backups yet.
col-created = Created
col-job = Job
col-size = Size
col-actions = Actions
download = Download
verify = Verify
test-restore = Test restore
restore = Restore
delete = Delete

## Trash
trash = Trash
trash-about = Backups retention removed. Each stays in storage, restorable, until the first prune after its grace period purges it.
trash-empty = The trash is empty.
col-removed-at = Removed at
col-purged-after = Purged after
col-reason = Reason
col-purge-error = Last purge error
at-next-prune = at the next prune
undelete = Undelete
undelete-label = Undelete the backup of { $job } made { $created }
more-trash = Showing the { $n } most recently removed; sauve backup list --trash lists them all.

## Notifications
notifications = Notifications
failing = Failing:
last-tried = last tried { $when }
nothing-sent = Nothing sent yet.
col-event = Event
col-channel = Channel
col-state = State
col-attempts = Attempts
col-answer = Answer
delivery-pending = pending
delivery-sending = sending
delivery-sent = sent
delivery-failed = failed

## History
history = History
all = all
col-kind = Kind
filter = Filter
no-runs = No runs yet.
col-status = Status
col-trigger = Trigger
col-started = Started
col-duration = Duration
col-log = Log
show = Show
newest-runs = Newest runs
older-runs = Older runs
state-queued = queued
state-running = running
state-succeeded = succeeded
state-partial = partial
state-failed = failed
state-cancelled = cancelled
kind-backup = backup
kind-restore = restore
kind-verify = verify
kind-test_restore = test restore
kind-prune = prune
trigger-schedule = schedule
trigger-catch_up = catch-up
trigger-manual = manual
trigger-api = api
trigger-cron = cron
trigger-retry = retry
