// The admin form's choice and Sauve's schedule, both ways. No secrets here:
// the browser and the server both import it.

export type Frequency = "off" | "daily" | "weekly" | "monthly";
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** What the form shows and sends. */
export interface ScheduleForm {
  frequency: Frequency;
  /** HH:MM, 24 h, in `timezone`. */
  time: string;
  /** For weekly. */
  weekday: Weekday;
  /** For monthly: 1..31 or "last" (a month without day 31 has no run for 31). */
  dayOfMonth: number | "last";
  /** IANA time zone, e.g. Europe/Paris: the browser's own by default. */
  timezone: string;
  /**
   * A schedule set elsewhere (the CLI, the dashboard: `every 6h`, a cron
   * expression) that this form cannot show: it is saved as it is until the
   * admin picks a frequency (which drops it).
   */
  other?: string;
}

/** The Sauve schedule for the form, or null for "off" (no schedule: only on demand). */
export function toSchedule(f: ScheduleForm): string | null {
  if (f.frequency === "off") return null;
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(f.time)) throw new FormError("time", "write the time as HH:MM, e.g. 02:30");
  switch (f.frequency) {
    case "daily":
      return `daily at ${f.time}`;
    case "weekly":
      return `weekly on ${f.weekday} at ${f.time}`;
    case "monthly":
      return `monthly on ${f.dayOfMonth} at ${f.time}`;
  }
}

/** The form for a job's schedule and time zone as the server holds them. */
export function toForm(schedule: string | null | undefined, timezone: string | null | undefined): ScheduleForm {
  const form: ScheduleForm = { frequency: "off", time: "02:00", weekday: "mon", dayOfMonth: 1, timezone: timezone ?? "UTC" };
  if (!schedule) return form;
  let m: RegExpMatchArray | null;
  if ((m = schedule.match(/^daily at (\d\d:\d\d)$/))) return { ...form, frequency: "daily", time: m[1]! };
  if ((m = schedule.match(/^weekly on (mon|tue|wed|thu|fri|sat|sun) at (\d\d:\d\d)$/))) {
    return { ...form, frequency: "weekly", weekday: m[1] as Weekday, time: m[2]! };
  }
  if ((m = schedule.match(/^monthly on (\d{1,2}|last) at (\d\d:\d\d)$/))) {
    return { ...form, frequency: "monthly", dayOfMonth: m[1] === "last" ? "last" : Number(m[1]), time: m[2]! };
  }
  return { ...form, other: schedule };
}

/** A mistake the form can point at before anything is sent. */
export class FormError extends Error {
  constructor(readonly field: keyof ScheduleForm, message: string) {
    super(message);
  }
}
