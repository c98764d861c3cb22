// app/admin/backup/page.tsx: a server component. It reads the schedule on
// the server, on every request, and sends nothing by itself.
import { loadSettings } from "@/lib/backup-settings";
import BackupSettings from "./BackupSettings";

export const dynamic = "force-dynamic";

export default async function Page() {
  // Check that the visitor is an admin here too (redirect to sign-in), as the routes do.
  const settings = await loadSettings();
  return <BackupSettings initial={settings} />;
}
