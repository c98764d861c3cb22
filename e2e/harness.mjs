// Test harness: the real `sauve` binary in a temp data directory, and Debian's
// Chromium driven by playwright-core (no browser download: executablePath).
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const BIN =
  process.env.SAUVE_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/sauve/target"), "debug/sauve");

export const SHOTS = process.env.SAUVE_SCREENSHOTS ?? new URL("./screenshots/", import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

export class Sauve {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "sauve-e2e-"));
    this.data = join(this.dir, "data");
    this.server = null;
    this.base = null;
  }

  cli(args, input) {
    return execFileSync(BIN, ["--data-dir", this.data, ...args], {
      input,
      encoding: "utf8",
      env: { ...process.env, SAUVE_LOG: "warn" },
    });
  }

  addUser(name, role, password) {
    this.cli(["user", "add", name, "--role", role, "--password-stdin"], `${password}\n`);
  }

  /** Starts `sauve serve` on a random port; resolves once it listens. */
  async start() {
    // Started in its temp dir, as a newcomer would: the default --allow-path.
    this.server = spawn(BIN, ["--data-dir", this.data, "serve", "--listen", "127.0.0.1:0", "--tick-ms", "100"], {
      cwd: this.dir,
      env: { ...process.env, SAUVE_LOG: "warn" },
      // The default --allow-path root is where serve starts: the test's dir.
      cwd: this.dir,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: this.server.stdout });
    this.base = await new Promise((resolve, reject) => {
      lines.once("line", (l) => {
        const m = l.match(/http:\/\/(\S+)/);
        m ? resolve(`http://${m[1]}`) : reject(new Error(`unexpected: ${l}`));
      });
      this.server.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
    });
    lines.on("line", () => {});
  }

  async stop() {
    if (!this.server) return;
    const exited = new Promise((r) => this.server.once("exit", r));
    this.server.kill("SIGTERM");
    await exited;
    this.server = null;
  }
}

export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** A page that records every request, console error and failed request. */
export async function watchedPage(b, options = {}) {
  // A context of its own (axe-core's playwright binding needs one made by
  // newContext), closed with its page.
  const context = await b.newContext(options);
  const page = await context.newPage();
  page.once("close", () => context.close().catch(() => {}));
  const log = { requests: [], consoleErrors: [], failed: [] };
  page.on("request", (r) => log.requests.push({ method: r.method(), url: r.url(), body: r.postData(), at: Date.now() }));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    // "Failed to load resource: … 422" names no URL; add it, so a test can allow what it provoked.
    const url = m.text().startsWith("Failed to load resource") ? ` ${m.location()?.url ?? ""}` : "";
    log.consoleErrors.push(`${m.text()}${url}`);
  });
  page.on("pageerror", (e) => log.consoleErrors.push(String(e)));
  page.on("requestfailed", (r) => {
    // An event stream closed by a navigation or reload is not a failure.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") log.failed.push(`${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  return { page, log };
}

export async function signIn(page, base, name, password) {
  await page.goto(`${base}/dashboard/admin/backup`);
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Backups", level: 1 }).waitFor();
}

export const writes = (log, since = 0) =>
  log.requests.filter((r) => r.at >= since && ["POST", "PUT", "DELETE", "PATCH"].includes(r.method));

/** Waits until `cond()` holds, checking every 50 ms; fails after `ms` naming `what`. */
export async function until(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A screenshot of a state the suite shows (the whole page, or `locator`), and
 * axe-core's check of that state: no serious or critical violation of WCAG
 * 2.1 A/AA. Every screenshot goes through here, so every state shown is one
 * checked.
 */
export async function shot(page, name, { locator, fullPage = true } = {}) {
  if (locator) await locator.screenshot({ path: join(SHOTS, `${name}.png`) });
  else await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe on ${name}`,
  );
}
