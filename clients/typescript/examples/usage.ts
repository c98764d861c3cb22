// examples/usage.ts: a script (cron, CI, a deploy step) that sets a job's
// schedule, backs it up now and waits for the backup.
//   SAUVE_URL=http://127.0.0.1:8080 SAUVE_TOKEN=… SAUVE_JOB=app-db node usage.js
import { createSauveClient, SauveError } from "@sauve/client";

const sauve = createSauveClient({
  baseUrl: process.env.SAUVE_URL ?? "http://127.0.0.1:8080",
  // sauve token create deploy --scope jobs:read,jobs:write,backups:read,backups:write,runs:read
  token: process.env.SAUVE_TOKEN ?? "",
});
const job = process.env.SAUVE_JOB ?? "app-db";

for (const j of await sauve.listJobs()) console.log(`${j.name}: ${j.schedule_description ?? "on demand"}`);

try {
  // Kept and run by the server; the rest of the job is left as it is.
  const saved = await sauve.setSchedule(job, process.env.SAUVE_SCHEDULE ?? "daily at 02:00", "Europe/Paris");
  console.log(`${job}: ${saved.schedule_description}, next at ${saved.next_run}`);
} catch (e) {
  // A 422 names the field at fault: schedule, timezone…
  if (e instanceof SauveError && e.status === 422) {
    console.error(`${e.field}: ${e.body?.message}`);
    process.exit(2);
  }
  throw e;
}

// One key per intent (this pipeline's run): a retried step makes no second backup.
const key = process.env.CI_PIPELINE_ID ? `deploy-${process.env.CI_PIPELINE_ID}` : crypto.randomUUID();
const { run_id, created } = await sauve.startBackup(job, { idempotencyKey: key });
const run = await sauve.waitForRun(run_id, {
  timeoutMs: 30 * 60_000,
  onEvent: (e) => e.event === "progress" && console.log(`${e.data.bytes_in} bytes read`),
});
if (run.state !== "succeeded") {
  console.error(`run ${run.id} ${run.state}: ${run.error}\n${run.log}`);
  process.exit(1);
}
const { items } = await sauve.listBackups({ job, limit: "10" });
const backup = items.find((b) => b.run_id === run.id);
console.log(`run ${run.id} (${created ? "started now" : "already asked for"}) stored backup ${backup?.id}, ${backup?.size} bytes`);
