// app/admin/backup/BackupSettings.tsx: the client component that replaces
// the localStorage form. No token, and no effect that writes: only the two
// buttons' handlers send anything.
"use client";
import { useRef, useState, type FormEvent } from "react";
import type { BackupSettings as Settings } from "@/lib/backup-settings";
import { WEEKDAYS, type ScheduleForm } from "@/lib/schedule-form";
import { backUpNow, followBackup, saveSchedule, PageError, type RunStatus } from "./browser";

export default function BackupSettings({ initial }: { initial: Settings }) {
  const [saved, setSaved] = useState(initial);
  const [form, setForm] = useState<ScheduleForm>(() =>
    initial.form.frequency === "off" && !initial.form.other
      ? { ...initial.form, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone } // the browser's zone, preselected
      : initial.form,
  );
  const [error, setError] = useState<PageError | null>(null);
  const [saving, setSaving] = useState(false);
  const [run, setRun] = useState<RunStatus | null>(null);
  const key = useRef<string | null>(null); // one key per click, kept for its retries
  const set = (patch: Partial<ScheduleForm>) => setForm({ ...form, ...patch });

  async function save(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const s = await saveSchedule(form);
      setSaved(s);
      setForm(s.form);
    } catch (err) {
      setError(err as PageError);
    } finally {
      setSaving(false);
    }
  }

  async function backUp() {
    key.current ??= crypto.randomUUID();
    setError(null);
    setRun({ runId: "", state: "queued", finished: false, error: null, bytesIn: 0 });
    try {
      const { runId } = await backUpNow(key.current);
      const done = await followBackup(runId, setRun);
      if (done.state !== "succeeded") setError(new PageError(502, undefined, done.error ?? done.state));
      key.current = null; // the next click is a new backup
    } catch (err) {
      setError(err as PageError); // the key is kept: clicking again retries the same backup
    }
  }

  const busy = run !== null && !run.finished && error === null;
  const fieldError = (f: string) => (error?.field === f ? <p role="alert">{error.message}</p> : null);
  return (
    <form onSubmit={save}>
      <p>
        {saved.description && saved.nextRun
          ? `Backs up ${saved.description}; next: ${new Date(saved.nextRun).toLocaleString()}`
          : "No automatic backup"}
      </p>
      {form.other && (
        <p>
          Set elsewhere: <code>{form.other}</code> (kept unless you pick a frequency)
        </p>
      )}
      <label>
        Frequency{" "}
        <select
          value={form.other ? "" : form.frequency}
          onChange={(e) => set({ frequency: e.target.value as ScheduleForm["frequency"], other: undefined })}
        >
          {form.other && <option value="">(unchanged)</option>}
          <option value="off">Off</option>
          <option value="daily">Daily</option>
          <option value="weekly">Weekly</option>
          <option value="monthly">Monthly</option>
        </select>
      </label>
      {!form.other && form.frequency === "weekly" && (
        <label>
          Day{" "}
          <select value={form.weekday} onChange={(e) => set({ weekday: e.target.value as ScheduleForm["weekday"] })}>
            {WEEKDAYS.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
      )}
      {!form.other && form.frequency === "monthly" && (
        <label>
          Day{" "}
          <select
            value={String(form.dayOfMonth)}
            onChange={(e) => set({ dayOfMonth: e.target.value === "last" ? "last" : Number(e.target.value) })}
          >
            {Array.from({ length: 31 }, (_, i) => (
              <option key={i + 1}>{i + 1}</option>
            ))}
            <option value="last">last</option>
          </select>
        </label>
      )}
      {!form.other && form.frequency !== "off" && (
        <label>
          At <input type="time" value={form.time} onChange={(e) => set({ time: e.target.value })} />
        </label>
      )}
      {fieldError("time")}
      <label>
        Time zone <input value={form.timezone} onChange={(e) => set({ timezone: e.target.value })} />
      </label>
      {fieldError("timezone")}
      {fieldError("schedule")}
      <button type="submit" disabled={saving}>
        Save schedule
      </button>
      <button type="button" onClick={backUp} disabled={busy}>
        Back up now
      </button>
      {run && <p role="status">{run.finished ? run.state : `${run.state}… ${run.bytesIn} bytes read`}</p>}
      {error && !error.field && <p role="alert">{error.message}</p>}
    </form>
  );
}
