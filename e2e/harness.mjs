// Test harness: the real `sauve` binary in a temp data directory, and Debian's
// Chromium driven by playwright-core (no browser download: executablePath).
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const BIN =
  process.env.SAUVE_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/sauve/target"), "debug/sauve");

// SAUVE_E2E_BASE_PATH=/backup runs the whole suite as an app would embed
// Sauve: `serve --base-path /backup` behind a real nginx that passes
// /backup/… through, and the browser talks to nginx only.
export const PREFIX = process.env.SAUVE_E2E_BASE_PATH ?? "";

/** A request's path as the server's routes name it (without the prefix); a
 *  path outside the prefix is returned marked, so an assertion shows it. */
export function pathOf(url) {
  const p = new URL(url).pathname;
  if (!PREFIX) return p;
  return p.startsWith(`${PREFIX}/`) ? p.slice(PREFIX.length) : `(outside ${PREFIX}) ${p}`;
}

export const SHOTS = process.env.SAUVE_SCREENSHOTS ?? new URL("./screenshots/", import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

export class Sauve {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "sauve-e2e-"));
    this.data = join(this.dir, "data");
    this.server = null;
    this.nginx = null;
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
    const prefixed = PREFIX ? ["--base-path", PREFIX, "--trusted-proxy", "127.0.0.1"] : [];
    this.server = spawn(BIN, ["--data-dir", this.data, "serve", "--listen", "127.0.0.1:0", "--tick-ms", "100", ...prefixed], {
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
    if (PREFIX) this.base = await this.proxy(new URL(this.base).host);
  }

  /** nginx in front of `upstream` with the very `location` block
   *  docs/embedding.md gives (read from it, so the page cannot drift from
   *  what is tested); resolves with the prefixed address the browser uses. */
  async proxy(upstream) {
    const dir = join(this.dir, "nginx");
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    writeFileSync(join(dir, "nginx.conf"), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
${documentedLocation(upstream)}
  }
}
`);
    this.nginx = spawn(process.env.NGINX ?? "/usr/sbin/nginx", ["-p", dir, "-e", `${dir}/error.log`, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "inherit", "inherit"] });
    const base = `http://127.0.0.1:${port}${PREFIX}`;
    await until(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, 10000, "nginx in front of sauve");
    return base;
  }

  async stop() {
    if (this.nginx) {
      const gone = new Promise((r) => this.nginx.once("exit", r));
      this.nginx.kill("SIGTERM");
      await gone;
      this.nginx = null;
    }
    if (!this.server) return;
    const exited = new Promise((r) => this.server.once("exit", r));
    this.server.kill("SIGTERM");
    await exited;
    this.server = null;
  }
}

/** docs/embedding.md's nginx block, for this prefix and upstream. */
function documentedLocation(upstream) {
  const doc = readFileSync(new URL("../docs/embedding.md", import.meta.url), "utf8");
  const block = doc.match(/```nginx\n([\s\S]*?)```/)?.[1];
  assert.ok(block?.includes("location /backup/") && block.includes("127.0.0.1:8080"), "docs/embedding.md has its nginx block");
  return block.replaceAll("location /backup/", `location ${PREFIX}/`).replaceAll("127.0.0.1:8080", upstream);
}

/** A port nothing listens on now (nginx cannot be asked for port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
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
