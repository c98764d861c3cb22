// app/api/backup/route.ts: "Back up now" and its progress.
import { isFinished } from "@sauve/client";
import { adminOnly } from "../../../lib/admin.js";
import { jobName, sauve } from "../../../lib/sauve.js";

export const dynamic = "force-dynamic";

/**
 * POST (sent only by a click): queues one backup. The page sends an
 * Idempotency-Key it keeps for that click, passed on to Sauve, so a double
 * click, a retry or a resent request answers the same run.
 */
export const POST = adminOnly(async (request) => {
  const key = request.headers.get("Idempotency-Key");
  if (!key) return Response.json({ field: "Idempotency-Key", message: "send one key per click" }, { status: 400 });
  const accepted = await sauve().startBackup(jobName(), { idempotencyKey: key });
  return Response.json({ runId: accepted.run_id, created: accepted.created ?? true }, { status: 202 });
});

/**
 * GET ?run=ID: the run once it has finished, or its state after at most
 * `wait` seconds (default 8, at most 25): a long poll the page repeats
 * until `finished`.
 */
export const GET = adminOnly(async (request) => {
  const url = new URL(request.url);
  const id = url.searchParams.get("run");
  if (!id) return Response.json({ field: "run", message: "which run?" }, { status: 400 });
  const wait = Math.min(Math.max(Number(url.searchParams.get("wait") ?? 8), 0), 25) * 1000;
  const client = sauve();
  let run;
  try {
    run = await client.waitForRun(id, { timeoutMs: wait, signal: request.signal });
  } catch (e) {
    if (!(e instanceof Error && e.name === "SauveTimeoutError")) throw e;
    run = await client.getRun(id);
  }
  return Response.json({
    runId: run.id,
    state: run.state,
    finished: isFinished(run.state),
    error: run.error ?? null,
    bytesIn: run.bytes_in,
  });
});
