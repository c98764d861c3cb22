// Server only. In a Next.js app, start this file with `import "server-only";`
// so that importing it from a client component is a build error: the token
// must never reach the browser.
import { createSauveClient, type SauveClient } from "@sauve/client";

/**
 * The Sauve client for this app, from the server's environment:
 *   SAUVE_URL    where Sauve listens, e.g. http://127.0.0.1:8080
 *   SAUVE_TOKEN  sauve token create web-admin --scope jobs:read,jobs:write,backups:read,backups:write,runs:read
 *   SAUVE_JOB    the job this page manages, e.g. app-db
 */
export function sauve(): SauveClient {
  const baseUrl = process.env.SAUVE_URL;
  const token = process.env.SAUVE_TOKEN;
  if (!baseUrl || !token) throw new Error("set SAUVE_URL and SAUVE_TOKEN in the server's environment");
  return createSauveClient({ baseUrl, token });
}

export function jobName(): string {
  const job = process.env.SAUVE_JOB;
  if (!job) throw new Error("set SAUVE_JOB to the name of the Sauve job this page manages");
  return job;
}
