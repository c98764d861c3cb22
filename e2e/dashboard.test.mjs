// The admin page, in a real browser: the original page's own checklist (no POST
// unless a person clicks; "Back up now" makes exactly one run that succeeds; the
// schedule survives a reload and a restart; no console errors), sign-in and
// roles, CSRF, restore, a failed backup's error and log, and a phone layout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BIN, Sauve, browser, watchedPage, signIn, writes, until, shot, SHOTS, pathOf } from "./harness.mjs";

const ADMIN = ["ada", "admin-password-for-e2e"];
const VIEWER = ["vic", "viewer-password-for-e2e"];
let sauve, b;

before(async () => {
  sauve = new Sauve();
  sauve.addUser(ADMIN[0], "admin", ADMIN[1]);
  sauve.addUser(VIEWER[0], "viewer", VIEWER[1]);
  const db = join(sauve.dir, "app.db");
  execFileSync("sqlite3", [db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('hello'), ('world');"]);
  sauve.cli(["job", "create", "notes", "--source", `sqlite://${db}`, "--dest", join(sauve.dir, "backups")]);
  await sauve.start();
  b = await browser();
});

after(async () => {
  await b?.close();
  await sauve?.stop();
});

const runs = () => JSON.parse(sauve.cli(["run", "list", "--json", "--limit", "1000"]));

test("loading never POSTs; Back up now makes one run; the schedule persists; no console errors", async () => {
  const { page, log } = await watchedPage(b, { viewport: { width: 1200, height: 900 } });
  await signIn(page, sauve.base, ...ADMIN);
  await shot(page, "dashboard");

  // Left open for 10 s after load: not a single state-changing request.
  const loaded = Date.now();
  await page.waitForTimeout(10_000);
  assert.deepEqual(writes(log, loaded), [], "the page sent a write on its own");

  // One click: exactly one POST and exactly one new run, which succeeds.
  const before = runs().length;
  const clicked = Date.now();
  const card = page.locator('.card[data-job="notes"]');
  await card.getByRole("button", { name: "Back up now" }).click();
  await card.locator(".live").getByText(/Succeeded/).waitFor({ timeout: 30_000 });
  await shot(page, "backup-succeeded");
  const posts = writes(log, clicked);
  assert.equal(posts.length, 1, JSON.stringify(posts));
  assert.match(posts[0].url, /\/api\/admin\/backups$/);
  const after = runs();
  assert.equal(after.length, before + 1);
  assert.equal(after[0].state, "succeeded");
  assert.equal(after[0].trigger, "manual");
  await page.waitForLoadState("load");

  // The schedule form previews from the server as the admin edits, and saves.
  await page.reload();
  const editor = page.locator('.schedule-editor[data-job="notes"]');
  await editor.locator("summary").click();
  await editor.getByLabel("Frequency").selectOption("weekly");
  await editor.getByLabel("Time", { exact: true }).fill("03:30");
  await editor.getByRole("checkbox", { name: "mon" }).check();
  await editor.getByRole("checkbox", { name: "thu" }).check();
  await editor.getByLabel("Time zone").fill("Europe/Paris");
  await editor.locator(".preview li").nth(4).waitFor();
  assert.equal(await editor.locator(".preview li").count(), 5);
  await shot(page, "schedule-editor");
  await editor.getByRole("button", { name: "Save schedule" }).click();
  const words = page.locator('.card[data-job="notes"] .schedule-words');
  await words.getByText("every Monday and Thursday at 03:30 (Europe/Paris)").waitFor();

  // Still there after a reload, and after restarting the server.
  await page.reload();
  await words.getByText("every Monday and Thursday at 03:30 (Europe/Paris)").waitFor();
  assert.match(await page.locator('.card[data-job="notes"] .next-run').textContent(), /03:30/);
  await sauve.stop();
  await sauve.start();
  // Sessions live in the metadata store: still signed in after the restart.
  await page.goto(`${sauve.base}/dashboard/admin/backup`);
  await words.getByText("every Monday and Thursday at 03:30 (Europe/Paris)").waitFor();

  assert.deepEqual(log.consoleErrors, [], "console errors");
  assert.deepEqual(log.failed, [], "failed requests");
  await page.close();
});

test("create a job from the page, then edit it", async () => {
  const { page, log } = await watchedPage(b);
  await signIn(page, sauve.base, ...ADMIN);
  await page.getByText("Create a job").click();
  const form = page.locator("#job-form");
  // Errors come back from the server and are shown beside their fields.
  await form.getByLabel("Name").fill("Bad Name");
  await form.getByLabel("Source").fill("ftp://nowhere");
  await form.getByRole("button", { name: "Create job" }).click();
  await form.locator('.error[data-field="name"]').getByText("not a valid job name").waitFor();
  await form.locator('.error[data-field="source"]').getByText("unknown source scheme").waitFor();
  await form.locator('.error[data-field="destinations"]').getByText("at least one destination").waitFor();
  // Test connection, then create.
  const dir = join(sauve.dir, "uploads");
  execFileSync("mkdir", ["-p", dir]);
  await form.getByLabel("Name").fill("uploads");
  await form.getByLabel("Source").fill(`files://${dir}`);
  await form.getByRole("button", { name: "Test connection" }).click();
  await page.locator("#test-result").getByText(/OK: files/).waitFor();
  await form.getByLabel("Destinations, one per line").fill(join(sauve.dir, "backups"));
  await form.getByRole("button", { name: "Create job" }).click();
  const card = page.locator('.card[data-job="uploads"]');
  await card.waitFor();
  // Edit it: a second destination.
  await card.getByRole("button", { name: "Edit job" }).click();
  await form.getByLabel("Destinations, one per line").fill(`${join(sauve.dir, "backups")}\n${join(sauve.dir, "offsite")}`);
  await form.getByRole("button", { name: "Save job" }).click();
  await page.locator('.card[data-job="uploads"]').getByText(join(sauve.dir, "offsite")).waitFor();
  const job = JSON.parse(sauve.cli(["job", "show", "uploads", "--json"]));
  assert.equal(job.destinations.length, 2);
  assert.deepEqual(log.failed, []);
  await page.close();
});

test("Test destinations: one POST per line on a click, none on load; each line says it works or what failed", async () => {
  const { page, log } = await watchedPage(b);
  await signIn(page, sauve.base, ...ADMIN);
  const loaded = Date.now();
  await page.reload();
  await page.waitForLoadState("networkidle");
  assert.deepEqual(writes(log, loaded), [], "loading the page sent a write");

  const good = join(sauve.dir, "tested");
  mkdirSync(good);
  // Under a regular file: the directory cannot even be opened (created), root or not.
  const file = join(sauve.dir, "a-file");
  writeFileSync(file, "not a directory\n");
  const unopenable = pathToFileURL(join(file, "backups")).href;
  // Opens, but the probe's folder name is taken by a file: the write step fails.
  const blocked = join(sauve.dir, "blocked");
  mkdirSync(blocked);
  writeFileSync(join(blocked, ".sauve-check"), "in the way\n");
  const lines = [pathToFileURL(good).href, unopenable, pathToFileURL(blocked).href];
  await page.getByText("Create a job").click();
  const form = page.locator("#job-form");
  await form.getByLabel("Destinations, one per line").fill(`${lines[0]}\n\n  ${lines[1]}  \n${lines[2]}\n`);

  // Hold the first answer, to see the button disabled while testing.
  let release;
  const held = new Promise((r) => (release = r));
  await page.route("**/api/admin/destinations/test", async (route) => { await held; await route.continue(); }, { times: 1 });
  const button = form.getByRole("button", { name: "Test destinations" });
  const clicked = Date.now();
  await button.click();
  assert.ok(await button.isDisabled(), "the button was not disabled while testing");
  release();

  const results = form.locator("#destination-results li");
  await results.nth(2).filter({ hasNotText: "testing…" }).waitFor();
  const texts = await results.allTextContents();
  assert.equal(texts.length, 3, "one result per non-blank line");
  assert.match(texts[0], /^file:\/\/\S+\/tested: works: write \d+ ms, read \d+ ms, list \d+ ms, delete \d+ ms$/);
  assert.ok(texts[1].startsWith(`${unopenable}: cannot open destination `), texts[1]);
  assert.match(texts[1], /Not a directory/);
  assert.match(texts[2], /^file:\/\/\S+\/blocked: write "\.sauve-check\/\w+" at \S+ failed: /);
  assert.deepEqual(
    await results.evaluateAll((lis) => lis.map((li) => li.className)),
    ["state-succeeded", "error", "error"],
  );
  assert.equal(await form.locator("#destination-results").getAttribute("aria-live"), "polite");
  assert.ok(await button.isEnabled(), "the button was not enabled again");
  await shot(page, "destination-test");

  const posts = writes(log, clicked);
  assert.deepEqual(posts.map((p) => [p.method, pathOf(p.url)]), Array(3).fill(["POST", "/api/admin/destinations/test"]));
  // The probe is gone from the good destination.
  assert.equal(execFileSync("find", [good, "-type", "f"], { encoding: "utf8" }), "");
  assert.deepEqual(log.failed, []);
  await page.close();
});

test("a phone-width layout holds, and controls are labelled and reachable by keyboard", async () => {
  const { page, log } = await watchedPage(b, { viewport: { width: 390, height: 844 } });
  await signIn(page, sauve.base, ...ADMIN);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone`);
  await shot(page, "phone");
  // Every form control has an accessible name.
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea, button")]
      .filter((el) => el.type !== "hidden" && !(el.labels?.length || el.getAttribute("aria-label") || el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, []);
  // Tab reaches "Back up now", and focus is visible.
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement?.textContent === "Back up now");
  }
  assert.ok(reached, "Back up now is not reachable with Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none");
  assert.deepEqual(log.consoleErrors, []);
  await page.close();
});

test("sign-in, sign-out, CSRF refusal, and a viewer who can change nothing", async () => {
  const { page } = await watchedPage(b);
  await page.goto(`${sauve.base}/dashboard/admin/backup`);
  assert.match(page.url(), /\/login\?next=/, "signed-out visitors are sent to sign in");
  await page.getByLabel("User name").fill(ADMIN[0]);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("wrong user name or password").waitFor();

  await signIn(page, sauve.base, ...VIEWER);
  assert.equal(await page.getByRole("button", { name: "Back up now" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: "Restore", exact: true }).count(), 0);
  assert.equal(await page.getByText("Create a job").count(), 0);
  assert.equal(await page.getByRole("button", { name: "Test destinations" }).count(), 0);
  // The API refuses the viewer anyway, and a write without the CSRF token.
  const viaApi = await page.evaluate(async () => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const send = (headers) => fetch(`${document.documentElement.dataset.base}/api/admin/backups`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify({ job: "notes" }) }).then(async (r) => [r.status, (await r.json()).code]);
    return { withCsrf: await send({ "X-CSRF-Token": csrf }), withoutCsrf: await send({}) };
  });
  assert.deepEqual(viaApi.withCsrf, [403, "forbidden"]);
  assert.deepEqual(viaApi.withoutCsrf, [403, "csrf"]);
  await shot(page, "viewer");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  await page.goto(`${sauve.base}/dashboard/admin/backup`);
  assert.match(page.url(), /\/login/, "the session ended");
  await page.close();
});

test("restore a backup from the page, with a typed confirmation", async () => {
  const { page } = await watchedPage(b);
  await signIn(page, sauve.base, ...ADMIN);
  const target = join(sauve.dir, "restored.db");
  const answers = [target, target];
  page.on("dialog", (d) => d.accept(answers.shift()));
  const row = page.locator("tr[data-backup]").first();
  await row.getByRole("button", { name: "Restore", exact: true }).click();
  await row.locator(".result").getByText(/Succeeded/).waitFor({ timeout: 30_000 });
  assert.ok(existsSync(target));
  const rows = execFileSync("sqlite3", [target, "SELECT body FROM notes ORDER BY id"], { encoding: "utf8" });
  assert.equal(rows, "hello\nworld\n");
  // A confirmation that does not match restores nothing.
  const other = join(sauve.dir, "never.db");
  answers.push(other, "something else");
  await row.getByRole("button", { name: "Restore", exact: true }).click();
  await row.locator(".result").getByText("the confirmation did not match").waitFor();
  assert.ok(!existsSync(other));
  // Verify from the page.
  await row.getByRole("button", { name: "Verify" }).click();
  await row.locator(".result").getByText(/Good: SQLite database/).waitFor();
  await page.close();
});

test("Test restore: one POST on a click, the rows it found, the proof on the card", async () => {
  sauve.cli(["backup", "run", "notes"]);
  const { page, log } = await watchedPage(b, { viewport: { width: 1200, height: 900 } });
  await signIn(page, sauve.base, ...ADMIN);
  const row = page.locator("tr[data-backup]").filter({ hasText: "notes" }).first();
  const clicked = Date.now();
  await row.getByRole("button", { name: "Test restore" }).click();
  await row.locator(".result").getByText(/^Restores: 1 table, 2 rows \(.* s; scratch dropped\)$/).waitFor({ timeout: 30_000 });
  assert.deepEqual(writes(log, clicked).map((p) => pathOf(p.url)).filter((p) => p.endsWith("/test-restore")).length, 1);
  // Kept on the backup, and the card says how old the newest proven backup is.
  await page.reload();
  await row.locator(".badge.check-test-restored").waitFor();
  const proof = page.locator('.card[data-job="notes"] .proof');
  assert.match(await proof.textContent(), /old \(backup \w+: verified .*, test-restored .*, 1 table, 2 rows\)/);
  assert.match(await proof.textContent(), /Last check: test restore succeeded/);
  // Nothing left under the data directory's scratch folder.
  const scratch = join(sauve.data, "scratch");
  assert.equal(existsSync(scratch) ? execFileSync("find", [scratch, "-mindepth", "1"], { encoding: "utf8" }) : "", "");
  await shot(page, "test-restore");
  assert.deepEqual(log.failed, []);
  await page.close();
});

test("a failed backup shows its error and its log", async () => {
  const file = join(sauve.dir, "broken.toml");
  writeFileSync(file, `[[job]]
name = "broken"
destinations = ["${join(sauve.dir, "backups")}"]
max_attempts = 1
[job.source]
kind = "command"
command = ["sh", "-c", "echo disk on fire >&2; exit 3"]
`);
  sauve.cli(["job", "apply", file]);
  const { page } = await watchedPage(b);
  await signIn(page, sauve.base, ...ADMIN);
  const card = page.locator('.card[data-job="broken"]');
  await card.getByRole("button", { name: "Back up now" }).click();
  await card.locator(".live").getByText(/Failed: .*disk on fire/).waitFor({ timeout: 30_000 });
  await page.reload();
  const failed = page.locator("tr[data-run]").filter({ hasText: "broken" }).first();
  await failed.getByText("failed", { exact: true }).waitFor();
  await failed.locator("summary").click();
  await failed.locator("pre").getByText(/disk on fire/).waitFor();
  await shot(page, "failed-run");
  await page.close();
});

test("a hostile next= never takes a signed-in browser off this origin", async () => {
  const origin = new URL(sauve.base).origin;
  for (const next of ["/%5Cevil.example", "/%09/evil.example", "//evil.example", "/%2F%2Fevil.example", "https://evil.example/"]) {
    const { page } = await watchedPage(b);
    await page.goto(`${sauve.base}/login?next=${next}`);
    await page.getByLabel("User name").fill(ADMIN[0]);
    await page.getByLabel("Password").fill(ADMIN[1]);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Backups", level: 1 }).waitFor();
    assert.equal(new URL(page.url()).origin, origin, `next=${next} left the origin`);
    await page.close();
  }
});

// ---- retention ---------------------------------------------------------------

const paths = (ws) => ws.map((w) => [w.method, pathOf(w.url)]);
const DATE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;
// The 422s a test provokes on purpose (an invalid policy) are logged by the browser; nothing else may be.
const unexpected = (errors) => errors.filter((e) => !/status of 422 .* http:\S+\/api\/admin\/jobs(\/[\w.-]+(\/retention-plan\?\S*)?)?$/.test(e));

test("retention: the plan before saving, Apply retention now, the trash and Undelete", async () => {
  const src = join(sauve.dir, "rotated-src");
  mkdirSync(src, { recursive: true });
  const dest = join(sauve.dir, "rotated-backups");
  sauve.cli(["job", "create", "rotated", "--source", `files://${src}`, "--dest", dest]);
  const made = [];
  for (let i = 0; i < 3; i++) {
    writeFileSync(join(src, "notes.txt"), `version ${i}\n`);
    const r = JSON.parse(sauve.cli(["backup", "run", "rotated", "--json"]));
    assert.equal(r.state, "succeeded");
    made.push(r.backups[0].id);
  }
  const [oldest, middle, newest] = made;

  const { page, log } = await watchedPage(b, { viewport: { width: 1200, height: 900 } });
  await signIn(page, sauve.base, ...ADMIN);
  const loaded = Date.now();
  await page.reload();
  await page.waitForLoadState("networkidle");
  const card = page.locator('.card[data-job="rotated"]');
  await card.locator(".retention-words").getByText("Keeps every backup").waitFor();
  assert.equal(await page.locator("#trash").getByText("The trash is empty.").count(), 1);
  assert.deepEqual(writes(log, loaded), [], "loading the page sent a write");

  // Edit job: the form is filled, and nothing is planned until a person types.
  await card.getByRole("button", { name: "Edit job" }).click();
  const form = page.locator("#job-form");
  await page.locator("#new-title").getByText("Edit job rotated").waitFor();
  const status = page.locator("#plan-status");
  await status.getByText(/Change a rule/).waitFor();
  assert.equal(await status.getAttribute("role"), "status");
  const opened = Date.now();
  await page.waitForTimeout(600);
  assert.equal(log.requests.filter((r) => r.at >= opened && r.url.includes("/retention-plan")).length, 0, "planned without input");

  // Typing "10", then erasing the 0: one GET per pause (debounced), the policy in the query.
  const typed = Date.now();
  const keepLast = form.getByLabel("Keep last", { exact: true });
  await keepLast.pressSequentially("10", { delay: 60 });
  await status.getByText("Would keep 3 and move 0 to the trash.").waitFor();
  await keepLast.press("Backspace");
  await status.getByText("Would keep 1 and move 2 to the trash.").waitFor();
  const planGets = log.requests.filter((r) => r.at >= typed && r.url.includes("/retention-plan"));
  assert.deepEqual(planGets.map((r) => r.method), ["GET", "GET"], "one plan per pause in typing");
  assert.deepEqual(planGets.map((r) => JSON.parse(new URL(r.url).searchParams.get("policy"))), [{ keep_last: 10 }, { keep_last: 1 }]);
  const plan = page.locator("#plan-result");
  await plan.getByText("Keeps 1; 2 would go to the trash.").waitFor();
  const kept = plan.locator("li.plan-keep");
  assert.equal(await kept.count(), 1);
  assert.match(await kept.textContent(), /keep_last/);
  assert.equal(await kept.locator("time").getAttribute("title"), newest, "the newest is kept");
  assert.match(await kept.locator("time").textContent(), DATE);
  const removed = plan.locator("li.plan-remove time");
  assert.deepEqual((await removed.evaluateAll((ts) => ts.map((t) => t.title))).sort(), [oldest, middle].sort());
  for (const t of await removed.allTextContents()) assert.match(t, DATE);
  await shot(page, "retention-plan", { locator: page.locator("#new-job") });

  // A count that is not one, and a grace period that is not one: said beside the field.
  const keepDaily = form.getByLabel("Keep daily", { exact: true });
  await keepDaily.fill("lots");
  const dailyError = form.locator('.error[data-field="retention.keep_daily"]');
  await dailyError.getByText(/not a count/).waitFor();
  assert.equal(await keepDaily.getAttribute("aria-invalid"), "true");
  assert.doesNotMatch(await dailyError.textContent(), /line 1 column/);
  await keepDaily.fill("");
  await status.getByText("Would keep 1 and move 2 to the trash.").waitFor();
  assert.ok(await dailyError.isHidden());
  const trashFor = form.getByLabel("Trash for", { exact: true });
  await trashFor.fill("soon");
  await form.locator('.error[data-field="retention.trash_for"]').getByText(/soon/).waitFor();
  await trashFor.fill("");
  await status.getByText("Would keep 1 and move 2 to the trash.").waitFor();
  assert.deepEqual(writes(log, loaded), [], "planning sent a write");

  // Save: exactly one PUT, with the policy.
  const saving = Date.now();
  await form.getByRole("button", { name: "Save job" }).click();
  await card.locator(".retention-words").getByText("Keeps the last 1; trash 24h").waitFor();
  const saved = writes(log, saving);
  assert.deepEqual(paths(saved), [["PUT", "/api/admin/jobs/rotated"]]);
  assert.deepEqual(JSON.parse(saved[0].body).retention, { keep_last: 1 });
  assert.deepEqual(JSON.parse(sauve.cli(["job", "show", "rotated", "--json"])).retention, { keep_last: 1 });
  await page.waitForLoadState("networkidle");

  // Apply retention now: one POST, the button disabled while it is in flight.
  let release;
  const held = new Promise((r) => (release = r));
  await page.route("**/api/admin/jobs/rotated/prune", async (route) => { await held; await route.continue(); }, { times: 1 });
  const apply = card.getByRole("button", { name: "Apply retention now" });
  const applying = Date.now();
  await apply.click();
  assert.ok(await apply.isDisabled(), "Apply retention now was not disabled while in flight");
  await apply.click({ force: true }).catch(() => {});
  release();
  await card.locator(".prune-result").getByText(/^Queued run \w+/).waitFor();
  // The page shows the trash once the prune is done (it reloads itself).
  const trashRows = page.locator("#trash tr[data-trashed]");
  await trashRows.nth(1).waitFor({ timeout: 30_000 });
  assert.equal(await trashRows.count(), 2);
  assert.deepEqual(paths(writes(log, applying)), [["POST", "/api/admin/jobs/rotated/prune"]]);
  assert.deepEqual((await trashRows.evaluateAll((rs) => rs.map((r) => r.dataset.trashed))).sort(), [oldest, middle].sort());
  const cells = await trashRows.first().locator("td").allTextContents();
  assert.match(cells[0], DATE, "created");
  assert.equal(cells[1], "rotated");
  assert.match(cells[4], DATE, "removed at");
  assert.match(cells[5], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, "purged after");
  assert.match(cells[6], /keep_last|retention/, "reason");
  assert.equal(await page.locator(`tr[data-backup="${oldest}"]`).count(), 0, "a trashed backup is still listed among the backups");
  assert.equal(await page.locator(`tr[data-backup="${newest}"]`).count(), 1);
  // History: the prune shows like any run, and the kind filter (a GET form) finds it.
  assert.ok(await page.locator("tr[data-run]").filter({ hasText: "rotated" }).filter({ hasText: "prune" }).count() >= 1);
  await shot(page, "trash", { locator: page.locator("#trash") });
  await shot(page, "retention");

  // The phone width still holds with the trash and the card's new lines.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone`);
  await shot(page, "retention-phone");
  await page.setViewportSize({ width: 1200, height: 900 });

  // Undelete one: exactly one POST; the row says so; after a reload it is a backup again.
  const row = page.locator(`#trash tr[data-trashed="${middle}"]`);
  const undeleting = Date.now();
  await row.getByRole("button", { name: /^Undelete/ }).click();
  await row.locator(".result").getByText(/^Restored/).waitFor();
  assert.deepEqual(paths(writes(log, undeleting)), [["POST", `/api/admin/backups/${middle}/undelete`]]);
  assert.equal(await row.getByRole("button", { name: /^Undelete/ }).count(), 0, "the button is still offered");
  await page.reload();
  await page.locator(`tr[data-backup="${middle}"]`).waitFor();
  assert.equal(await trashRows.count(), 1);
  const live = JSON.parse(sauve.cli(["backup", "list", "--job", "rotated", "--json"])).map((x) => x.id);
  assert.deepEqual(live.sort(), [middle, newest].sort());

  const filtering = Date.now();
  const kind = page.getByRole("combobox", { name: /^Kind/ });
  await kind.selectOption("prune");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/kind=prune/);
  const kinds = await page.locator("tr[data-run] td:nth-child(3)").allTextContents();
  assert.ok(kinds.length >= 1 && kinds.every((k) => k === "prune"), JSON.stringify(kinds));
  assert.equal(await kind.inputValue(), "prune");
  assert.deepEqual(writes(log, filtering), []);

  assert.deepEqual(unexpected(log.consoleErrors), [], "console errors");
  assert.ok(log.consoleErrors.length >= 2, "the invalid policies were not refused");
  assert.deepEqual(log.failed, [], "failed requests");
  await page.close();

  // A viewer sees the trash and the retention, and no button that changes them.
  const viewer = await watchedPage(b);
  await signIn(viewer.page, sauve.base, ...VIEWER);
  await viewer.page.locator(`#trash tr[data-trashed="${oldest}"]`).waitFor();
  assert.equal(await viewer.page.getByRole("button", { name: /Undelete/ }).count(), 0);
  assert.equal(await viewer.page.getByRole("button", { name: "Apply retention now" }).count(), 0);
  await viewer.page.locator('.card[data-job="rotated"] .retention-words').getByText("Keeps the last 1").waitFor();
  assert.deepEqual(viewer.log.consoleErrors, []);
  await viewer.page.close();
});

test("retention in the job form: a new job's policy, its errors, and a destination's own table kept", async () => {
  const { page, log } = await watchedPage(b, { viewport: { width: 1200, height: 900 } });
  await signIn(page, sauve.base, ...ADMIN);
  await page.getByText("Create a job").click();
  const form = page.locator("#job-form");
  const status = page.locator("#plan-status");
  await status.getByText("No backups yet: nothing would be removed.").waitFor();
  await form.getByText("No rules: every backup is kept.").waitFor();
  const dir = join(sauve.dir, "kept-src");
  mkdirSync(dir, { recursive: true });
  await form.getByLabel("Name").fill("kept");
  await form.getByLabel("Source").fill(`files://${dir}`);
  await form.getByLabel("Destinations, one per line").fill(join(sauve.dir, "kept-backups"));
  await form.getByLabel("Keep daily", { exact: true }).fill("7");
  assert.ok(await form.getByText("No rules: every backup is kept.").isHidden());
  await form.getByLabel("Keep monthly", { exact: true }).fill("Unlimited");
  await form.getByLabel("Trash for", { exact: true }).fill("48h");
  // The less common rules are one click away, and a bad count is said beside it.
  await form.getByText("More rules").click();
  await form.getByLabel("Keep hourly", { exact: true }).fill("-3");
  const typed = Date.now();
  await form.getByRole("button", { name: "Create job" }).click();
  await form.locator('.error[data-field="retention.keep_hourly"]').getByText(/not a count/).waitFor();
  assert.equal(await page.locator('.card[data-job="kept"]').count(), 0);
  await form.getByLabel("Keep hourly", { exact: true }).fill("");
  await form.getByRole("button", { name: "Create job" }).click();
  const card = page.locator('.card[data-job="kept"]');
  await card.locator(".retention-words").getByText("Keeps 7 daily, one a month forever; trash 48h").waitFor();
  const sent = writes(log, typed);
  assert.deepEqual(paths(sent), [["POST", "/api/admin/jobs"], ["POST", "/api/admin/jobs"]]);
  assert.deepEqual(JSON.parse(sent[1].body).retention, { keep_daily: 7, keep_monthly: "unlimited", trash_for: "48h" });
  // A new job has nothing to plan: no plan was asked for.
  assert.equal(log.requests.filter((r) => r.url.includes("/retention-plan")).length, 0);
  assert.deepEqual(JSON.parse(sauve.cli(["job", "show", "kept", "--json"])).retention, { keep_daily: 7, keep_monthly: "unlimited", trash_for: "48h" });

  // A destination written as a table: shown by its URI, its table kept on save.
  const local = join(sauve.dir, "tabled-local");
  const offsite = join(sauve.dir, "tabled-offsite");
  const file = join(sauve.dir, "tabled.toml");
  writeFileSync(file, `[[job]]
name = "tabled"
source = "files://${dir}"
destinations = [{ uri = "file://${local}", retention = { keep_within = "7d" } }, "${offsite}"]
[job.retention]
keep_weekly = 4
`);
  sauve.cli(["job", "apply", file]);
  await page.reload();
  const tabled = page.locator('.card[data-job="tabled"]');
  await tabled.locator(".dest-retention").getByText(/Keeps all within 7d of the newest/).waitFor();
  await tabled.getByRole("button", { name: "Edit job" }).click();
  await page.locator("#new-title").getByText("Edit job tabled").waitFor();
  assert.equal(await form.getByLabel("Destinations, one per line").inputValue(), `file://${local}\n${offsite}`);
  assert.equal(await form.getByLabel("Keep weekly", { exact: true }).inputValue(), "4");
  await page.locator("#retention-dest-note").getByText(`file://${local}`).waitFor();
  await form.getByLabel("Keep last", { exact: true }).fill("2");
  await status.getByText(/No backups yet: nothing would be removed/).waitFor();
  const saving = Date.now();
  await form.getByRole("button", { name: "Save job" }).click();
  await tabled.locator(".retention-words").getByText("Keeps the last 2, 4 weekly; trash 24h").waitFor();
  assert.deepEqual(paths(writes(log, saving)), [["PUT", "/api/admin/jobs/tabled"]]);
  const job = JSON.parse(sauve.cli(["job", "show", "tabled", "--json"]));
  assert.deepEqual(job.destinations[0], { uri: `file://${local}`, retention: { keep_within: "7d" } });
  assert.equal(job.destinations.length, 2);
  assert.deepEqual(job.retention, { keep_last: 2, keep_weekly: 4 });
  assert.deepEqual(unexpected(log.consoleErrors), [], "console errors");
  assert.deepEqual(log.failed, [], "failed requests");
  await page.close();
});

test("notifications: the last deliveries, a channel in the form, Send test on a click only", async (t) => {
  // A webhook receiver on loopback; the operator's job tells it (plain http
  // to this machine is the operator's to choose, from the CLI).
  const { createServer } = await import("node:http");
  const received = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => { received.push({ path: req.url, body }); res.end("ok"); });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  // Closed even when an assertion fails: an open server would keep this file's
  // process, and the whole suite, waiting.
  t.after(() => receiver.close());
  const hook = `webhook+http://127.0.0.1:${receiver.address().port}/hook`;
  sauve.cli(["job", "create", "alerted", "--source", `sqlite://${join(sauve.dir, "missing.db")}`,
    "--dest", join(sauve.dir, "backups"), "--notify", hook]);
  // A failed backup alerts once: the command sends it before it returns, or
  // the server's sender, sharing the store, claims it first and sends it
  // (run without blocking this process, which is also the receiver).
  const { execFile } = await import("node:child_process");
  const code = await new Promise((resolve) => {
    execFile(BIN, ["--data-dir", sauve.data, "backup", "run", "alerted"], { env: { ...process.env, SAUVE_LOG: "warn" } },
      (err) => resolve(err?.code ?? 0));
  });
  assert.equal(code, 1, "a failed backup exits 1");
  await until(() => received.length > 0, 15_000, "the run.failed webhook");
  assert.equal(received.length, 1);
  assert.equal(JSON.parse(received[0].body).type, "run.failed");

  const { page, log } = await watchedPage(b, { viewport: { width: 1200, height: 900 } });
  await signIn(page, sauve.base, ...ADMIN);
  const loaded = Date.now();
  await page.reload();
  await page.waitForLoadState("networkidle");
  assert.deepEqual(writes(log, loaded), [], "loading the page sent a write");
  const section = page.locator("#notifications");
  const row = section.locator("tr").filter({ hasText: "run.failed" }).filter({ hasText: "alerted" });
  await row.getByText("sent", { exact: true }).waitFor();
  const card = page.locator('.card[data-job="alerted"]');
  await card.locator(".channels code").getByText(hook).waitFor();

  // Send test on the card: one POST; a clear-text channel is the operator's,
  // and the page says so instead of sending it.
  let clicked = Date.now();
  await card.getByRole("button", { name: `Send test to ${hook}` }).click();
  await card.locator(".channels .result").getByText(/clear text/).waitFor();
  assert.deepEqual(writes(log, clicked).map((p) => pathOf(p.url)), ["/api/admin/notifications/test"]);
  assert.equal(received.length, 1, "nothing was sent in clear text from the page");

  // The form: channels one per line, each tested on a click, saved with the job.
  await page.getByText("Create a job").click();
  const form = page.locator("#job-form");
  await form.getByLabel("Name").fill("told");
  await form.getByLabel("Source", { exact: true }).fill(`sqlite://${join(sauve.dir, "app.db")}`);
  await form.getByLabel("Destinations, one per line").fill(pathToFileURL(join(sauve.dir, "backups")).href);
  // .invalid never resolves (RFC 2606): the send fails, and says where.
  const unreachable = "ntfy://ntfy.invalid/backups";
  await form.getByLabel("Notify, one channel per line (optional)").fill(`${unreachable}\n\n  `);
  await form.getByLabel("Alert when no backup for (optional)").fill("26h");
  clicked = Date.now();
  await form.getByRole("button", { name: "Send a test to each" }).click();
  const results = form.locator("#channel-results li");
  await results.first().filter({ hasNotText: "sending…" }).waitFor();
  assert.match(await results.first().textContent(), /^ntfy:\/\/ntfy\.invalid\/backups: .*cannot reach ntfy\.invalid/);
  assert.equal(await results.count(), 1, "one result per non-blank line");
  await shot(page, "notifications");
  await form.getByRole("button", { name: "Create job" }).click();
  await page.locator('.card[data-job="told"]').waitFor();
  const saved = JSON.parse(sauve.cli(["job", "show", "told", "--json"]));
  assert.deepEqual(saved.notify, [unreachable]);
  assert.equal(saved.max_age, "26h");
  assert.deepEqual(
    writes(log, clicked).map((p) => pathOf(p.url)),
    ["/api/admin/notifications/test", "/api/admin/jobs"],
  );
  // What a person provoked (the 422 and the 502 of the tests) is all the console saw.
  assert.deepEqual(log.consoleErrors.filter((e) => !/notifications\/test/.test(e)), []);
  await page.close();
});

test("each job at a glance, in English and French, light and dark, on a phone; Créer une sauvegarde once per click", async () => {
  // A job that always fails beside "notes", which backs up well.
  const file = join(sauve.dir, "ledger.toml");
  writeFileSync(file, `[[job]]
name = "ledger"
destinations = ["${join(sauve.dir, "backups")}"]
max_attempts = 1
[job.source]
kind = "command"
command = ["sh", "-c", "echo ledger locked >&2; exit 3"]
`);
  sauve.cli(["job", "apply", file]);
  for (let i = 0; i < 2; i++) assert.throws(() => sauve.cli(["backup", "run", "ledger"]));
  sauve.cli(["backup", "run", "notes"]);
  sauve.cli(["backup", "run", "notes"]);

  const { page, log } = await watchedPage(b, { viewport: { width: 1200, height: 900 } });
  await signIn(page, sauve.base, ...ADMIN);
  const notes = page.locator('.card[data-job="notes"]');
  const ledger = page.locator('.card[data-job="ledger"]');
  await notes.locator(".status").getByText("Healthy").waitFor();
  // The state comes from the alerting's fold of the runs, as the watchdog sees it.
  await until(async () => {
    await page.reload();
    return /^Failing since \d{4}-\d\d-\d\d .* \(2 failed runs\)$/.test((await ledger.locator(".status").textContent()).trim());
  }, 30_000, "ledger shown failing");

  // 30 days, today on the right in the day's colour.
  assert.equal(await notes.locator(".strip rect").count(), 30);
  assert.equal(await notes.locator(".strip rect").last().getAttribute("class"), "o-ok");
  assert.equal(await ledger.locator(".strip rect").last().getAttribute("class"), "o-failed");
  // The sparklines: a point per successful backup; none for a job without one.
  const points = (await notes.locator(".spark polyline").first().getAttribute("points")).trim().split(/\s+/);
  const good = runs().filter((r) => r.job === "notes" && r.kind === "backup" && r.state === "succeeded").length;
  assert.equal(points.length, Math.min(good, 30));
  assert.equal(await ledger.locator(".spark").count(), 0);
  assert.match(await notes.locator(".spark svg").first().getAttribute("aria-label"), /^Size of the last \d+ backups: from .* to .*, the newest .*$/);
  // The table beside the picture, opened from the keyboard.
  await notes.locator(".as-table summary").focus();
  await page.keyboard.press("Enter");
  await notes.locator(".as-table table").waitFor();
  assert.match(await notes.locator(".as-table caption").textContent(), /^Last 30 days: 1 with every backup stored, 0 partly failed, 0 failed, 29 without a backup run$/);
  // Storage: the destination both jobs write to, what it holds, its growth.
  const dest = page.locator("#storage tr[data-destination]").first();
  assert.match(await dest.locator("td").nth(1).textContent(), /^\d+(\.\d)? (B|KiB|MiB)$/);
  assert.match(await dest.locator("td.growth").textContent(), /\+.* in 90 days/);
  await shot(page, "glance");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot(page, "glance-dark");
  await page.emulateMedia({ colorScheme: "light" });

  // French from the switch; the choice is a cookie, loading sends no write.
  const loaded = Date.now();
  await page.getByRole("link", { name: "Français" }).click();
  await page.getByRole("heading", { name: "Sauvegardes", level: 1 }).waitFor();
  assert.equal(await page.locator("html").getAttribute("lang"), "fr");
  await notes.locator(".status").getByText("En bonne santé").waitFor();
  assert.match(await ledger.locator(".status").textContent(), /En échec depuis le \d\d\/\d\d\/\d{4} .* \(2 exécutions échouées\)/);
  assert.match(await notes.locator(".as-table caption").textContent(), /^30 derniers jours : 1 jour où tout a été sauvegardé/);
  // What retention removes next, read on a click (GET only).
  const removals = page.locator("#storage details.next-removals").first();
  await removals.locator("summary").click();
  await removals.locator(".removals").filter({ hasText: /\S/ }).waitFor();
  await shot(page, "glance-fr");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot(page, "glance-fr-dark");
  await page.emulateMedia({ colorScheme: "light" });
  // The job form in French: a retention rule and its live plan, before saving.
  await page.locator('.card[data-job="rotated"]').getByRole("button", { name: "Modifier la tâche" }).click();
  const form = page.locator("#job-form");
  await page.locator("#plan-status").getByText(/^Modifiez une règle/).waitFor();
  await form.getByLabel("Garder les dernières").fill("2");
  await page.locator("#plan-status").getByText(/^Seraient conservées : \d+ ; iraient à la corbeille : \d+\.$/).waitFor();
  await shot(page, "retention-plan-fr", { locator: page.locator("#new-job") });
  await form.getByRole("button", { name: "Annuler" }).click();
  assert.deepEqual(writes(log, loaded), [], "switching language and opening parts sent a write");

  // The original page's button, in its own words: one click, one POST, one run.
  const before = runs().length;
  const clicked = Date.now();
  await notes.getByRole("button", { name: "Créer une sauvegarde" }).click();
  await notes.locator(".live").getByText(/^Réussie/).waitFor({ timeout: 30_000 });
  assert.equal(writes(log, clicked).length, 1, JSON.stringify(writes(log, clicked)));
  assert.equal(runs().length, before + 1);

  // Kept on the next visit, whatever the browser prefers; and on a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${sauve.base}/dashboard/admin/backup`);
  assert.equal(await page.locator("html").getAttribute("lang"), "fr");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone`);
  await shot(page, "glance-fr-phone");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot(page, "glance-fr-phone-dark");
  assert.deepEqual(log.consoleErrors, []);
  assert.deepEqual(log.failed, []);
  await page.close();
});

test("the sign-in page follows the browser's language", async () => {
  const { page, log } = await watchedPage(b, { locale: "fr-FR" });
  await page.goto(`${sauve.base}/dashboard/admin/backup`);
  await page.getByLabel("Nom d’utilisateur").fill(ADMIN[0]);
  await page.getByLabel("Mot de passe").fill(ADMIN[1]);
  await shot(page, "login-fr");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("heading", { name: "Sauvegardes", level: 1 }).waitFor();
  assert.equal(await page.locator("html").getAttribute("lang"), "fr");
  assert.deepEqual(log.consoleErrors, []);
  await page.close();
});
