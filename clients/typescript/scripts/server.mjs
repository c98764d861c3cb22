// A real `sauve serve` for the test and for `npm run generate`: the binary
// from $SAUVE_BIN (default $CARGO_TARGET_DIR/debug/sauve, CARGO_TARGET_DIR
// defaulting to ~/.cache/sauve/target, where scripts/test builds it), a temp
// data directory, a random loopback port. Started in its temp dir, so the
// default --allow-path is that dir, as in e2e/harness.mjs.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const BIN =
  process.env.SAUVE_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache/sauve/target"), "debug/sauve");

export class Sauve {
  constructor() {
    if (!existsSync(BIN)) {
      throw new Error(`no sauve binary at ${BIN}: build it (cargo build) or set SAUVE_BIN`);
    }
    this.dir = mkdtempSync(join(tmpdir(), "sauve-client-ts-"));
    this.data = join(this.dir, "data");
    this.server = null;
    this.base = null;
  }

  /** Runs a CLI command on the same data directory; returns its stdout. */
  cli(args, input) {
    return execFileSync(BIN, ["--data-dir", this.data, ...args], {
      input,
      encoding: "utf8",
      env: { ...process.env, SAUVE_LOG: "warn" },
      stdio: ["pipe", "pipe", "pipe"],
    });
  }

  /** Creates an API token with these scopes and returns it (printed once). */
  token(name, scopes) {
    return this.cli(["token", "create", name, "--scope", scopes.join(",")]).trim();
  }

  /** Starts `sauve serve` on a random port; resolves once it listens (its first stdout line). */
  async start({ timeoutMs = 30_000 } = {}) {
    this.server = spawn(BIN, ["--data-dir", this.data, "serve", "--listen", "127.0.0.1:0", "--tick-ms", "100"], {
      cwd: this.dir,
      env: { ...process.env, SAUVE_LOG: "warn" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    // Whatever ends this process (a failed assertion, Ctrl-C), the server goes with it.
    if (!this.killOnExit) {
      this.killOnExit = () => this.server?.kill("SIGKILL");
      this.killOnSignal = (signal) => {
        this.killOnExit();
        process.exit(128 + (signal === "SIGINT" ? 2 : 15));
      };
      process.once("exit", this.killOnExit);
      process.once("SIGINT", this.killOnSignal);
      process.once("SIGTERM", this.killOnSignal);
    }
    const lines = createInterface({ input: this.server.stdout });
    let timer;
    this.base = await new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`serve did not print its address within ${timeoutMs} ms`)), timeoutMs);
      lines.once("line", (l) => {
        const m = l.match(/http:\/\/(\S+)/);
        m ? resolve(`http://${m[1]}`) : reject(new Error(`unexpected first line from serve: ${l}`));
      });
      this.server.once("exit", (code) => reject(new Error(`serve exited ${code} before listening`)));
    }).finally(() => clearTimeout(timer));
    lines.on("line", () => {});
    return this.base;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; removes the temp dir. */
  async stop({ graceMs = 10_000 } = {}) {
    const server = this.server;
    this.server = null;
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      const t = setTimeout(() => server.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    }
    if (this.killOnExit) {
      process.removeListener("exit", this.killOnExit);
      process.removeListener("SIGINT", this.killOnSignal);
      process.removeListener("SIGTERM", this.killOnSignal);
      this.killOnExit = null;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
