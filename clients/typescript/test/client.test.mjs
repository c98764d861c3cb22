// The client against a real `sauve serve` ($SAUVE_BIN, see scripts/server.mjs):
// the committed types match the server's OpenAPI document; the built package
// (imported by its name, through package.json's exports) lists jobs, keeps a
// schedule on the server across a restart, starts one backup for two
// requests with the same Idempotency-Key, follows it to its end and finds
// its backup; a wrong token and a bad field come back as typed errors. Then
// the README's Next.js route handlers (compiled from examples/ by `npm test`)
// do the same through a page's requests. `npm test` builds and typechecks first.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSauveClient, SauveError, SauveTimeoutError, toSpec } from "@sauve/client";
import { Sauve, BIN } from "../scripts/server.mjs";
import { generate, SCHEMA } from "../scripts/generate.mjs";

const JOB = "site";
// What a web app's admin page needs, and nothing more (no restore, no exec).
const SCOPES = ["jobs:read", "jobs:write", "backups:read", "backups:write", "runs:read"];
let sauve, token, client;

before(async () => {
  sauve = new Sauve();
  token = sauve.token("client-ts", SCOPES);
  assert.match(token, /^\S{20,}$/, "token create prints the token alone on stdout");
  const site = join(sauve.dir, "site");
  mkdirSync(join(site, "uploads"), { recursive: true });
  writeFileSync(join(site, "index.html"), "<h1>hello</h1>\n");
  writeFileSync(join(site, "uploads", "a.txt"), "x".repeat(100_000));
  await sauve.start();
  client = createSauveClient({ baseUrl: sauve.base, token });
});

after(async () => {
  await sauve?.stop();
});

test("src/schema.d.ts is what openapi-typescript generates from the server's /api/openapi.json", () => {
  const fresh = generate(sauve.base);
  const committed = readFileSync(SCHEMA, "utf8");
  if (fresh !== committed) {
    const file = join(tmpdir(), "sauve-schema.d.ts");
    writeFileSync(file, fresh);
    let diff = "";
    try {
      execFileSync("diff", ["-u", SCHEMA, file], { encoding: "utf8" });
    } catch (e) {
      diff = String(e.stdout ?? "").split("\n").slice(0, 80).join("\n");
    }
    assert.fail(
      `src/schema.d.ts is not what the server at ${BIN} describes; regenerate and commit it:\n` +
        `  SAUVE_BIN=${BIN} npm run --prefix clients/typescript generate\n` +
        `the difference (fresh copy in ${file}):\n${diff}`,
    );
  }
});

test("jobs: create, list, set the schedule and read it back (also after a restart)", async () => {
  const created = await client.createJob({
    name: JOB,
    source: `files://${join(sauve.dir, "site")}`,
    destinations: [`file://${join(sauve.dir, "backups")}`],
  });
  assert.equal(created.name, JOB);
  assert.equal(created.schedule ?? null, null);

  const jobs = await client.listJobs();
  assert.deepEqual(jobs.map((j) => j.name), [JOB]);
  assert.equal(jobs[0].source_kind, "files");

  const set = await client.setSchedule(JOB, "weekly on mon at 03:30", "Europe/Paris");
  assert.equal(set.schedule, "weekly on mon at 03:30");
  assert.equal(set.timezone, "Europe/Paris");
  assert.match(set.schedule_description ?? "", /Monday/);
  assert.ok(set.next_run, "a scheduled job has a next run");
  // Only the schedule changed: the rest of the job is as it was.
  assert.deepEqual({ ...toSpec(set), schedule: undefined, timezone: undefined }, { ...toSpec(created), schedule: undefined, timezone: undefined });

  // The server keeps it, not the caller: a new process reads it from the store.
  await restart();
  const read = await client.getJob(JOB);
  assert.equal(read.schedule, "weekly on mon at 03:30");
  assert.equal(read.timezone, "Europe/Paris");
  assert.equal(read.next_run, set.next_run);

  const preview = await client.previewSchedule("daily at 02:00", "Europe/Paris", 3);
  assert.equal(preview.next.length, 3);
});

test("a backup: one run for two requests with the same key, followed to its end, then listed", async () => {
  const key = `click-${Date.now()}`;
  const first = await client.startBackup(JOB, { idempotencyKey: key });
  const again = await client.startBackup(JOB, { idempotencyKey: key });
  assert.equal(first.created, true);
  assert.equal(again.created, false, "the same key answers the same run");
  assert.equal(again.run_id, first.run_id);

  const events = [];
  const run = await client.waitForRun(first.run_id, { timeoutMs: 60_000, onEvent: (e) => events.push(e) });
  assert.equal(run.state, "succeeded", `${run.error}\n${run.log}`);
  assert.equal(run.kind, "backup");
  assert.equal(run.trigger, "api");
  assert.ok(run.bytes_in >= 100_000, `bytes_in ${run.bytes_in}`);
  assert.ok(events.some((e) => e.event === "state" && e.data.state === "succeeded"), JSON.stringify(events));

  const runs = await client.listRuns({ job: JOB, kind: "backup" });
  assert.deepEqual(runs.items.map((r) => r.id), [first.run_id], "exactly one run for the two requests");

  const backups = await client.listBackups({ job: JOB });
  const mine = backups.items.filter((b) => b.run_id === first.run_id);
  assert.equal(mine.length, 1, JSON.stringify(backups.items));
  assert.equal(mine[0].source_kind, "files");
  assert.match(mine[0].sha256, /^[0-9a-f]{64}$/);

  // Polling instead of the event stream, and an already finished run: at once.
  const polled = await client.waitForRun(first.run_id, { events: false, timeoutMs: 5_000 });
  assert.equal(polled.state, "succeeded");
});

test("waitForRun: a deadline is a SauveTimeoutError, an abort is the signal's reason, a cut stream is polled", async () => {
  // A 1 ms deadline, which no run meets (the scheduler ticks every 100 ms).
  const { run_id } = await client.startBackup(JOB);
  await assert.rejects(client.waitForRun(run_id, { timeoutMs: 1 }), (e) => {
    assert.ok(e instanceof SauveTimeoutError, String(e));
    assert.equal(e.runId, run_id);
    return true;
  });
  const ctl = new AbortController();
  ctl.abort(new Error("page closed"));
  await assert.rejects(client.waitForRun(run_id, { signal: ctl.signal }), /page closed/);
  assert.equal((await client.waitForRun(run_id, { timeoutMs: 60_000 })).state, "succeeded");

  // The event stream cut (a proxy that drops long responses): it polls instead.
  const seen = [];
  const cut = createSauveClient({
    baseUrl: sauve.base,
    token,
    fetch: (req) => {
      seen.push(new URL(req.url).pathname);
      return req.url.endsWith("/events") ? Promise.reject(new TypeError("fetch failed")) : fetch(req);
    },
  });
  const next = await cut.startBackup(JOB);
  const run = await cut.waitForRun(next.run_id, { timeoutMs: 60_000, pollMs: 50 });
  assert.equal(run.state, "succeeded");
  assert.ok(seen.includes(`/api/admin/runs/${next.run_id}/events`), seen.join(" "));
  assert.ok(seen.includes(`/api/admin/runs/${next.run_id}`), seen.join(" "));
});

test("errors are typed and carry the API's body: a wrong token, a bad field", async () => {
  const wrong = createSauveClient({ baseUrl: sauve.base, token: "not-a-sauve-token" });
  await assert.rejects(wrong.listJobs(), (e) => {
    assert.ok(e instanceof SauveError, String(e));
    assert.equal(e.status, 401);
    assert.equal(e.code, "unauthorized");
    return true;
  });

  await assert.rejects(client.setSchedule(JOB, "fortnightly at 25:00"), (e) => {
    assert.ok(e instanceof SauveError, String(e));
    assert.equal(e.status, 422);
    assert.equal(e.code, "invalid");
    assert.equal(e.field, "schedule");
    assert.ok(e.body?.message, "the server says what is wrong");
    return true;
  });
  assert.equal((await client.getJob(JOB)).schedule, "weekly on mon at 03:30", "a refused change changes nothing");

  await assert.rejects(client.startBackup(JOB, { idempotencyKey: "k".repeat(201) }), (e) => {
    assert.equal(e.status, 422);
    assert.equal(e.field, "Idempotency-Key");
    return true;
  });

  // The token has no `restore` scope: the raw openapi-fetch client is there
  // for every route, typed, and answers the same body.
  const { data: backups } = await client.api.GET("/api/admin/backups", { params: { query: { job: JOB } } });
  const { error, response } = await client.api.POST("/api/admin/backups/{id}/restore", {
    params: { path: { id: backups.items[0].id } },
    body: { to: join(sauve.dir, "restored") },
  });
  assert.equal(response.status, 403);
  assert.equal(error.code, "forbidden");
});

test("the README's Next.js route handlers: the schedule on the server, one backup per click", async () => {
  const built = new URL("../.build/examples/next/", import.meta.url);
  assert.ok(existsSync(built), "examples are compiled by `npm test` (tsc -p tsconfig.examples.json) first");
  Object.assign(process.env, { SAUVE_URL: sauve.base, SAUVE_TOKEN: token, SAUVE_JOB: JOB });
  const { setAdminCheck } = await import(new URL("lib/admin.js", built));
  const settings = await import(new URL("app/api/backup/settings/route.js", built));
  const backup = await import(new URL("app/api/backup/route.js", built));
  const app = "http://app.test";
  const asAdmin = { Cookie: "app_session=admin" };
  setAdminCheck(async (req) => req.headers.get("Cookie") === asAdmin.Cookie);
  const req = (path, init = {}) => new Request(`${app}${path}`, { ...init, headers: { ...asAdmin, ...init.headers } });
  const json = async (res, status) => {
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body));
    return body;
  };

  // Not an admin of the app: nothing is read or changed.
  assert.equal((await settings.GET(new Request(`${app}/api/backup/settings`))).status, 403);

  // The page loads: one GET, the schedule as the server holds it.
  const loaded = await json(await settings.GET(req("/api/backup/settings")), 200);
  assert.deepEqual(loaded.form, { frequency: "weekly", weekday: "mon", time: "03:30", dayOfMonth: 1, timezone: "Europe/Paris" });

  // Saved from the form: in Sauve's job, in words, with a next run.
  const put = (form) =>
    settings.PUT(req("/api/backup/settings", { method: "PUT", body: JSON.stringify({ ...loaded.form, ...form }) }));
  const saved = await json(await put({ frequency: "monthly", dayOfMonth: "last", time: "23:00" }), 200);
  assert.equal((await client.getJob(JOB)).schedule, "monthly on last at 23:00");
  assert.ok(saved.description && saved.nextRun, JSON.stringify(saved));
  assert.deepEqual((await json(await settings.GET(req("/api/backup/settings")), 200)).form, saved.form);

  // Mistakes come back naming the field: the form's own check, then Sauve's.
  assert.equal((await json(await put({ time: "25:00" }), 422)).field, "time");
  assert.equal((await json(await put({ timezone: "Mars/Olympus_Mons" }), 422)).field, "timezone");
  assert.equal((await client.getJob(JOB)).schedule, "monthly on last at 23:00");

  // A schedule set elsewhere, which the form cannot show: kept when saved.
  await client.setSchedule(JOB, "every 6h");
  const other = await json(await settings.GET(req("/api/backup/settings")), 200);
  assert.equal(other.form.other, "every 6h");
  await json(await settings.PUT(req("/api/backup/settings", { method: "PUT", body: JSON.stringify({ ...other.form, timezone: "Asia/Tokyo" }) })), 200);
  const kept = await client.getJob(JOB);
  assert.deepEqual([kept.schedule, kept.timezone], ["every 6h", "Asia/Tokyo"]);

  // "Back up now": a request from another site's page is refused; a double
  // click (the same key twice) is one run, followed to its end.
  const click = (key, headers = {}) =>
    backup.POST(req("/api/backup", { method: "POST", headers: { "Idempotency-Key": key, ...headers } }));
  assert.equal((await click("x", { Origin: "http://evil.test" })).status, 403);
  assert.equal((await backup.POST(req("/api/backup", { method: "POST" }))).status, 400);
  const key = crypto.randomUUID();
  const one = await json(await click(key), 202);
  const two = await json(await click(key), 202);
  assert.equal(two.runId, one.runId);
  assert.deepEqual([one.created, two.created], [true, false]);
  let status;
  const deadline = Date.now() + 60_000;
  do {
    status = await json(await backup.GET(req(`/api/backup?run=${one.runId}&wait=5`)), 200);
    assert.ok(Date.now() < deadline, `run ${one.runId} still ${status.state}`);
  } while (!status.finished);
  assert.equal(status.state, "succeeded", status.error);
  const backups = await client.listBackups({ job: JOB });
  assert.equal(backups.items.filter((b) => b.run_id === one.runId).length, 1);
});

test("examples/usage.ts, the README's script, runs as shown", () => {
  const script = new URL("../.build/examples/usage.js", import.meta.url);
  const out = execFileSync(process.execPath, [script.pathname], {
    encoding: "utf8",
    env: { ...process.env, SAUVE_URL: sauve.base, SAUVE_TOKEN: token, SAUVE_JOB: JOB, SAUVE_SCHEDULE: "daily at 04:00" },
  });
  assert.match(out, /^site: /m);
  assert.match(out, /started now\) stored backup \w+, \d+ bytes/);
  assert.equal(sauve.cli(["job", "show", JOB]).match(/schedule = "(.*)"/)?.[1], "daily at 04:00", "the CLI sees what the API set");
});

/** Stops the server process and starts another on the same data directory. */
async function restart() {
  const { server } = sauve;
  const exited = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  await exited;
  await sauve.start();
  client = createSauveClient({ baseUrl: sauve.base, token });
}
