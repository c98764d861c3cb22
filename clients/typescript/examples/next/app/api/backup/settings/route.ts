// app/api/backup/settings/route.ts: the schedule, read and saved on Sauve.
import { adminOnly } from "../../../../lib/admin.js";
import { FormError, loadSettings, saveSettings } from "../../../../lib/backup-settings.js";
import type { ScheduleForm } from "../../../../lib/schedule-form.js";

export const dynamic = "force-dynamic"; // read Sauve on every request, never a cached copy

export const GET = adminOnly(async () => Response.json(await loadSettings()));

export const PUT = adminOnly(async (request) => {
  const form = (await request.json()) as ScheduleForm;
  try {
    return Response.json(await saveSettings(form));
  } catch (e) {
    if (e instanceof FormError) return Response.json({ field: e.field, message: e.message }, { status: 422 });
    throw e;
  }
});
