# Messages of assets/app.js, the dashboard's and the sign-in page's script.
# The server sends them to the page as JSON (id → pattern, `{$name}` for each
# variable). One line each: text and { $name } placeables only. Every id here
# is used by a literal t("js-…") call in app.js, and locales/fr/script.ftl has
# the same ids in the same order.

## Runs in progress (live progress of a backup, restore or prune)

js-queued = Queued…
js-running = Running…
js-starting = Starting…
# A run's message after what started it, e.g. "Queued run 01H…: Running…".
js-prefixed = { $prefix }: { $text }
js-run-succeeded-stored = Succeeded: { $size } stored.
js-run-succeeded-retention = Succeeded: retention applied.
js-run-partial = Partial: { $error }
js-run-failed = Failed: { $error }
js-run-cancelled = Cancelled: { $error }
# A run state the script does not know: $state is its name, as the server spells it.
js-run-ended = { $state }: { $error }
js-progress-restore = Restoring… { $secs } s
js-progress-verify = Verifying… { $secs } s
js-progress-test-restore = Test-restoring… { $secs } s
js-progress-prune = Applying retention… { $secs } s
js-progress-other = Running… { $secs } s
js-progress-backup = Backing up: read { $read } ({ $rate }/s), stored { $stored }
js-progress-backup-eta = Backing up: read { $read } ({ $rate }/s), stored { $stored }, about { $eta } s left

## Errors the script writes when the server gave no message

js-failed-status = Failed ({ $status })
js-failed-message = Failed: { $message }

## Schedule editor

js-schedule-invalid = invalid schedule
js-schedule-not-saved = could not save
js-schedule-on-demand = only on demand

## Job form

js-job-create = Create job
js-job-save = Save job
js-job-create-title = Create a job
js-job-edit-title = Edit job { $name }
# $uris: the destinations' URIs, separated by ", ".
js-job-dest-own-rules = With rules of their own, kept as written (these rules do not apply there): { $uris }.
js-source-testing = Testing…
js-source-ok = OK: { $kind } { $name }
js-source-ok-server = OK: { $kind } { $name } (server { $version })
js-destinations-none = Type a destination first, one per line.
js-destination-testing = testing…
# $steps: each step as js-destination-step, separated by ", ".
js-destination-works = works: { $steps }
# $op is the step's name as the server says it (write, read, list, delete).
js-destination-step = { $op } { $ms } ms
js-channels-none = Type a channel first, one per line.
js-channel-sending = sending…
js-channel-sent = sent: answered { $status } in { $ms } ms
js-channel-sent-ok = sent: answered ok in { $ms } ms

## Retention plan in the job form

js-plan-idle-edit = Change a rule to see which backups it would keep and which it would move to the trash.
js-plan-no-backups = No backups yet: nothing would be removed.
js-plan-no-rules = No rules: every backup is kept ({ $kept }).
js-plan-summary = Would keep { $kept } and move { $removed } to the trash.
js-plan-summary-across = Would keep { $kept } and move { $removed } to the trash across { $destinations } destinations.
js-plan-purged-at-once = With trash_for 0s they are purged at once: no undo.
# $grace: the trash_for typed in the form, as typed (e.g. 48h).
js-plan-restorable-for = They stay restorable for { $grace }, then are purged.
js-plan-restorable-default = They stay restorable for 24h (the default), then are purged.
js-plan-refused-everywhere = Refused at every destination: nothing removed there.
js-plan-refused-some = Refused at { $refused } of { $destinations } destinations: nothing removed there.
js-plan-counts = Keeps { $kept }; { $removed } would go to the trash.
# $reason: why the server refused the plan (its words).
js-plan-refused = Refused: { $reason }. Nothing would be removed here.
# A list's title and how many it holds, e.g. "Kept (3)".
js-plan-list = { $title } ({ $count })
js-plan-kept = Kept
js-plan-to-trash = To the trash
js-plan-not-counted = Not counted
js-plan-not-counted-hint = Not counted: the store lists these but storage does not hold them whole, so the policy neither counts nor removes them.
js-plan-empty-destination = No backups here yet: nothing would be removed.
js-planning = Planning…
js-plan-invalid = This policy is not valid yet: see the message beside the rule.
js-plan-failed = Could not plan: { $message }
js-plan-failed-status = Could not plan: failed ({ $status })

## Apply retention now

js-prune-asking = Asking…
js-prune-queued = Queued run { $id }
js-prune-already-queued = Already queued: run { $id }

## Trash

js-undelete-running = Restoring…
js-undelete-done = Restored: a live backup again (listed under Backups after a reload). The next prune moves it back to the trash unless the policy keeps it: change the job's retention to keep it.

## Backups: verify, test restore, restore, delete

js-verify-running = Verifying…
js-verify-good = Good: { $format }
js-test-restore-running = Test-restoring into a scratch target…
js-test-restore-files-one = { $count } file
js-test-restore-files-other = { $count } files
js-test-restore-tables-one = { $count } table
js-test-restore-tables-other = { $count } tables
js-test-restore-rows-one = { $count } row
js-test-restore-rows-other = { $count } rows
js-test-restore-checks-one = { $count } check passed
js-test-restore-checks-other = { $count } checks passed
# $found: the js-test-restore-files/tables/rows/checks parts, separated by ", ".
js-test-restore-dropped = Restores: { $found } ({ $secs } s; scratch dropped)
js-test-restore-not-dropped = Restores: { $found } ({ $secs } s; scratch NOT dropped yet)
js-restore-prompt-target = Restore into (a new database URI, file or directory):
js-restore-prompt-confirm = Type the target again to confirm restoring into { $target }:
js-restore-mismatch = Not restored: the confirmation did not match.
js-restore-refused = Refused: { $message }
js-delete-confirm = Delete this backup from storage? This cannot be undone.

## History

js-log-empty = (empty)

## Storage: what retention would remove now

js-removes-nothing = Retention removes nothing now: every backup here is kept.
js-removals-count-one = { $count } backup would move to the trash.
js-removals-count-other = { $count } backups would move to the trash.
js-removals-no-destination = This destination is not in the job's plan.

## Sign in

js-sign-in-failed = Sign-in failed ({ $status })
