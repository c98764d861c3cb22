// Server only: what the admin page shows and saves, read from and written to
// Sauve. The schedule lives in Sauve's job (the server that runs it), not in
// the browser: that was the original page's bug.
import type { Job } from "@sauve/client";
import { jobName, sauve } from "./sauve.js";
import { FormError, toForm, toSchedule, type ScheduleForm } from "./schedule-form.js";

export interface BackupSettings {
  job: string;
  form: ScheduleForm;
  /** The schedule in Sauve's words, e.g. "every Monday at 03:30 (Europe/Paris)". */
  description: string | null;
  /** RFC 3339, or null without a schedule. */
  nextRun: string | null;
}

const settingsOf = (job: Job): BackupSettings => ({
  job: job.name,
  form: toForm(job.schedule, job.timezone),
  description: job.schedule_description ?? null,
  nextRun: job.next_run ?? null,
});

/** For the page's server component and `GET /api/backup/settings`: one GET, never a write. */
export async function loadSettings(): Promise<BackupSettings> {
  return settingsOf(await sauve().getJob(jobName()));
}

/**
 * For `PUT /api/backup/settings`: Sauve validates and keeps the schedule, and
 * runs it. A schedule set elsewhere that the admin left as it was (`other`)
 * is kept, in the time zone the form sends.
 */
export async function saveSettings(form: ScheduleForm): Promise<BackupSettings> {
  const schedule = form.other ?? toSchedule(form);
  return settingsOf(await sauve().setSchedule(jobName(), schedule, form.timezone));
}

export { FormError };
