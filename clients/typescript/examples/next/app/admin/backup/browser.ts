// The page's calls, from the browser to this app's own route handlers (never
// to Sauve: the token stays on the server). BackupSettings.tsx, the client
// component, uses these; nothing here runs on load except `loadSettings`'s
// GET, and only a click calls `backUpNow` or `saveSchedule`.
import type { BackupSettings } from "../../../lib/backup-settings.js";
import type { ScheduleForm } from "../../../lib/schedule-form.js";

/** An answer the page shows: a message, and the form field it belongs to. */
export class PageError extends Error {
  constructor(readonly status: number, readonly field: string | undefined, message: string) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}, base = ""): Promise<T> {
  const res = await fetch(`${base}${path}`, { ...init, headers: { "Content-Type": "application/json", ...init.headers } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new PageError(res.status, body.field, body.message ?? `HTTP ${res.status}`);
  return body as T;
}

export const saveSchedule = (form: ScheduleForm, base?: string) =>
  call<BackupSettings>("/api/backup/settings", { method: "PUT", body: JSON.stringify(form) }, base);

/**
 * One click of "Back up now". `key` is made once per click
 * (`crypto.randomUUID()`) and reused if the request is retried.
 */
export const backUpNow = (key: string, base?: string) =>
  call<{ runId: string; created: boolean }>("/api/backup", { method: "POST", headers: { "Idempotency-Key": key } }, base);

export interface RunStatus {
  runId: string;
  state: string;
  finished: boolean;
  error: string | null;
  bytesIn: number;
}

/** Follows a run until it ends, calling `onStatus` on each answer; stops with `signal` (the page unmounting). */
export async function followBackup(runId: string, onStatus: (s: RunStatus) => void, signal?: AbortSignal, base?: string) {
  for (;;) {
    const s = await call<RunStatus>(`/api/backup?run=${encodeURIComponent(runId)}&wait=8`, { signal }, base);
    onStatus(s);
    if (s.finished) return s;
  }
}
