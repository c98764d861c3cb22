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
import { Sauve, browser, watchedPage, signIn, writes, SHOTS } from "./harness.mjs";

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
  await page.screenshot({ path: join(SHOTS, "dashboard.png"), fullPage: true });

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
  await page.screenshot({ path: join(SHOTS, "backup-succeeded.png"), fullPage: true });
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
  await page.screenshot({ path: join(SHOTS, "schedule-editor.png"), fullPage: true });
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
  await page.screenshot({ path: join(SHOTS, "destination-test.png"), fullPage: true });

  const posts = writes(log, clicked);
  assert.deepEqual(posts.map((p) => [p.method, new URL(p.url).pathname]), Array(3).fill(["POST", "/api/admin/destinations/test"]));
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
  await page.screenshot({ path: join(SHOTS, "phone.png"), fullPage: true });
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
  assert.equal(await page.getByRole("button", { name: "Restore" }).count(), 0);
  assert.equal(await page.getByText("Create a job").count(), 0);
  assert.equal(await page.getByRole("button", { name: "Test destinations" }).count(), 0);
  // The API refuses the viewer anyway, and a write without the CSRF token.
  const viaApi = await page.evaluate(async () => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const send = (headers) => fetch("/api/admin/backups", { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify({ job: "notes" }) }).then(async (r) => [r.status, (await r.json()).code]);
    return { withCsrf: await send({ "X-CSRF-Token": csrf }), withoutCsrf: await send({}) };
  });
  assert.deepEqual(viaApi.withCsrf, [403, "forbidden"]);
  assert.deepEqual(viaApi.withoutCsrf, [403, "csrf"]);
  await page.screenshot({ path: join(SHOTS, "viewer.png"), fullPage: true });

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
  await row.getByRole("button", { name: "Restore" }).click();
  await row.locator(".result").getByText(/Succeeded/).waitFor({ timeout: 30_000 });
  assert.ok(existsSync(target));
  const rows = execFileSync("sqlite3", [target, "SELECT body FROM notes ORDER BY id"], { encoding: "utf8" });
  assert.equal(rows, "hello\nworld\n");
  // A confirmation that does not match restores nothing.
  const other = join(sauve.dir, "never.db");
  answers.push(other, "something else");
  await row.getByRole("button", { name: "Restore" }).click();
  await row.locator(".result").getByText("the confirmation did not match").waitFor();
  assert.ok(!existsSync(other));
  // Verify from the page.
  await row.getByRole("button", { name: "Verify" }).click();
  await row.locator(".result").getByText(/Good: SQLite database/).waitFor();
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
  await page.screenshot({ path: join(SHOTS, "failed-run.png"), fullPage: true });
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
