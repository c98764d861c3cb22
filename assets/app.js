// Sauve's dashboard script. The rule the old page broke: loading or leaving the
// page open never sends a POST, PUT or DELETE. On load this file only reads
// (GET, and Server-Sent Events for runs in progress); every change below runs
// from a person's click or submit.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

async function api(method, url, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  return { ok: res.ok, status: res.status, data };
}

function human(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Number(bytes) || 0, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// ---- live progress of a run (GET only: Server-Sent Events) -----------------

function follow(runId, box, onDone) {
  if (!runId || !box) return;
  box.textContent = "Queued…";
  const events = new EventSource(`/api/admin/runs/${encodeURIComponent(runId)}/events`);
  events.addEventListener("state", (e) => {
    const s = JSON.parse(e.data);
    if (s.state === "queued") box.textContent = "Queued…";
    else if (s.state === "running") box.textContent = "Running…";
    else {
      events.close();
      box.textContent = s.state === "succeeded"
        ? `Succeeded: ${human(s.bytes_out)} stored.`
        : `${s.state[0].toUpperCase()}${s.state.slice(1)}: ${s.error ?? ""}`;
      box.dataset.state = s.state;
      if (onDone) onDone(s);
    }
  });
  events.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    // Restores and verifies count no bytes yet: say what runs, not "0 B".
    if (p.kind && p.kind !== "backup") {
      box.textContent = `${p.kind === "restore" ? "Restoring" : "Verifying"}… ${Math.round(p.elapsed_secs)} s`;
      return;
    }
    const eta = p.eta_secs == null ? "" : `, about ${Math.round(p.eta_secs)} s left`;
    box.textContent = `Backing up: read ${human(p.bytes_in)} (${human(p.rate)}/s), stored ${human(p.bytes_out)}${eta}`;
  });
  // EventSource reconnects by itself after a dropped connection (a GET).
}

for (const box of document.querySelectorAll(".live[data-run-id]")) {
  if (box.dataset.runId) follow(box.dataset.runId, box, () => setTimeout(() => location.reload(), 1500));
}

// ---- Back up now: one click, one POST, one run ------------------------------

for (const button of document.querySelectorAll("button.backup-now")) {
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    button.disabled = true;
    const card = button.closest(".card");
    const box = card.querySelector(".live");
    box.textContent = "Starting…";
    // The key makes a repeated request (double click, retry) the same run.
    const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    const r = await api("POST", "/api/admin/backups", { job: button.dataset.job }, { "Idempotency-Key": key });
    if (!r.ok) {
      box.textContent = r.data?.message ?? `Failed (${r.status})`;
      button.disabled = false;
      return;
    }
    follow(r.data.run_id, box, () => { button.disabled = false; setTimeout(() => location.reload(), 1500); });
  });
}

// ---- schedule editor: live preview from the server, saved on submit ----------

function scheduleSpec(form) {
  const f = form.elements;
  const time = f.time.value || "02:00";
  switch (f.frequency.value) {
    case "daily": return `daily at ${time}`;
    case "weekly": {
      const days = [...form.querySelectorAll('input[name="weekday"]:checked')].map((c) => c.value);
      return `weekly on ${days.join(",") || "mon"} at ${time}`;
    }
    case "monthly": return `monthly on ${f.days.value.replace(/\s+/g, "") || "1"} at ${time}`;
    case "every": return `every ${f.hours.value || 6}h`;
    case "cron": return `cron "${f.cron.value.trim()}"`;
    default: return null;
  }
}

function loadSchedule(form, spec) {
  const f = form.elements;
  let m;
  if (!spec) f.frequency.value = "none";
  else if ((m = spec.match(/^daily at (\d\d?:\d\d)$/))) { f.frequency.value = "daily"; f.time.value = m[1].padStart(5, "0"); }
  else if ((m = spec.match(/^weekly on (\S+) at (\d\d?:\d\d)$/))) {
    f.frequency.value = "weekly"; f.time.value = m[2].padStart(5, "0");
    const days = m[1].split(",");
    for (const c of form.querySelectorAll('input[name="weekday"]')) c.checked = days.includes(c.value);
  } else if ((m = spec.match(/^monthly on (\S+) at (\d\d?:\d\d)$/))) { f.frequency.value = "monthly"; f.days.value = m[1]; f.time.value = m[2].padStart(5, "0"); }
  else if ((m = spec.match(/^every (\d+)h$/))) { f.frequency.value = "every"; f.hours.value = m[1]; }
  else if ((m = spec.match(/^cron "(.*)"$/))) { f.frequency.value = "cron"; f.cron.value = m[1]; }
  else { f.frequency.value = "cron"; f.cron.value = spec; }
}

function showFields(form) {
  const v = form.elements.frequency.value;
  form.querySelector(".f-time").hidden = !["daily", "weekly", "monthly"].includes(v);
  form.querySelector(".f-weekly").hidden = v !== "weekly";
  form.querySelector(".f-monthly").hidden = v !== "monthly";
  form.querySelector(".f-every").hidden = v !== "every";
  form.querySelector(".f-cron").hidden = v !== "cron";
}

for (const editor of document.querySelectorAll(".schedule-editor")) {
  const form = editor.querySelector("form");
  const error = form.querySelector(".field-error");
  const list = form.querySelector(".preview ol");
  loadSchedule(form, editor.dataset.schedule);
  form.elements.tz.value = editor.dataset.tz || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  showFields(form);
  const preview = debounce(async () => {
    const spec = scheduleSpec(form);
    list.replaceChildren();
    error.hidden = true;
    if (!spec) return;
    const q = new URLSearchParams({ spec, tz: form.elements.tz.value || "UTC", count: "5" });
    const r = await api("GET", `/api/admin/schedule/preview?${q}`);
    if (!r.ok) { error.textContent = r.data?.message ?? "invalid schedule"; error.hidden = false; return; }
    for (const t of r.data.next) { const li = document.createElement("li"); li.textContent = t; list.append(li); }
  }, 250);
  form.addEventListener("input", () => { showFields(form); preview(); });
  editor.addEventListener("toggle", () => { if (editor.open) preview(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = editor.dataset.job;
    const current = await api("GET", `/api/admin/jobs/${encodeURIComponent(name)}`);
    if (!current.ok) { error.textContent = current.data?.message; error.hidden = false; return; }
    const spec = { ...current.data };
    for (const k of ["source_kind", "schedule_description", "next_run", "created_at", "updated_at"]) delete spec[k];
    spec.schedule = scheduleSpec(form) ?? undefined;
    spec.timezone = spec.schedule ? (form.elements.tz.value || "UTC") : undefined;
    const r = await api("PUT", `/api/admin/jobs/${encodeURIComponent(name)}`, spec);
    if (!r.ok) { error.textContent = r.data?.message ?? "could not save"; error.hidden = false; return; }
    const card = editor.closest(".card");
    card.querySelector(".schedule-words").textContent = r.data.schedule_description ?? "only on demand";
    card.querySelector(".next-run").textContent = r.data.next_run ?? "—";
    editor.dataset.schedule = r.data.schedule ?? "";
    editor.open = false;
  });
}

// ---- create a job ------------------------------------------------------------

const jobForm = document.getElementById("job-form");
// The same form edits a job: "Edit job" fills it from the API and switches it to
// PUT; fields the form does not show (compression, overlap…) are kept as they were.
let editing = null;
function resetJobForm() {
  editing = null;
  jobForm.reset();
  jobForm.elements.name.readOnly = false;
  jobForm.querySelector('button[type="submit"]').textContent = "Create job";
  document.getElementById("cancel-edit").hidden = true;
  document.getElementById("new-title").textContent = "Create a job";
}
for (const b of document.querySelectorAll("button.edit-job")) {
  b.addEventListener("click", async () => {
    const r = await api("GET", `/api/admin/jobs/${encodeURIComponent(b.dataset.job)}`);
    if (!r.ok) return;
    const job = r.data;
    editing = job;
    const f = jobForm.elements;
    f.name.value = job.name;
    f.name.readOnly = true;
    f.source.value = typeof job.source === "string" ? job.source : "";
    f.destinations.value = job.destinations.join("\n");
    f.recipients.value = (job.encryption?.recipients ?? []).join("\n");
    f.schedule.value = job.schedule ?? "";
    f.timezone.value = job.timezone ?? "";
    jobForm.querySelector('button[type="submit"]').textContent = "Save job";
    document.getElementById("cancel-edit").hidden = false;
    document.getElementById("new-title").textContent = `Edit job ${job.name}`;
    const details = document.getElementById("new-job");
    details.open = true;
    details.scrollIntoView({ block: "start" });
    f.source.focus();
  });
}
document.getElementById("cancel-edit")?.addEventListener("click", resetJobForm);
if (jobForm) {
  const f = jobForm.elements;
  if (!f.timezone.value) f.timezone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  document.getElementById("test-source").addEventListener("click", async () => {
    const out = document.getElementById("test-result");
    out.textContent = "Testing…";
    const r = await api("POST", "/api/admin/sources/test", { source: f.source.value.trim() });
    out.textContent = r.ok
      ? `OK: ${r.data.kind} ${r.data.name}${r.data.server_version ? ` (server ${r.data.server_version})` : ""}`
      : r.data?.message ?? `Failed (${r.status})`;
  });
  // Each destination line in turn: write, read, list, delete a probe (a POST per
  // line, only on this click); the first step that fails is what the server says.
  const testDestinations = document.getElementById("test-destinations");
  testDestinations.addEventListener("click", async () => {
    const out = document.getElementById("destination-results");
    out.replaceChildren();
    const uris = f.destinations.value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (!uris.length) {
      const li = document.createElement("li");
      li.className = "error";
      li.textContent = "Type a destination first, one per line.";
      out.append(li);
      return;
    }
    testDestinations.disabled = true;
    for (const uri of uris) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = uri;
      const result = document.createElement("span");
      result.textContent = "testing…";
      li.append(code, ": ", result);
      out.append(li);
      const r = await api("POST", "/api/admin/destinations/test", { destination: uri })
        .catch((err) => ({ ok: false, data: { message: String(err) } }));
      result.textContent = r.ok
        ? `works: ${r.data.steps.map(([op, ms]) => `${op} ${ms} ms`).join(", ")}`
        : r.data?.message ?? `Failed (${r.status})`;
      li.className = r.ok ? "state-succeeded" : "error";
    }
    testDestinations.disabled = false;
  });
  jobForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const p of jobForm.querySelectorAll(".error")) p.hidden = true;
    const spec = {
      name: f.name.value.trim(),
      source: f.source.value.trim(),
      destinations: f.destinations.value.split("\n").map((s) => s.trim()).filter(Boolean),
    };
    if (f.schedule.value.trim()) { spec.schedule = f.schedule.value.trim(); spec.timezone = f.timezone.value || "UTC"; }
    const recipients = f.recipients.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
    if (recipients.length) spec.encryption = { recipients };
    let r;
    if (editing) {
      const merged = { ...editing, ...spec };
      for (const k of ["source_kind", "schedule_description", "next_run", "created_at", "updated_at"]) delete merged[k];
      // A command source is a table the form cannot show: keep it unless a URI was typed.
      if (typeof editing.source !== "string" && !spec.source) merged.source = editing.source;
      // Emptied keys remove the encryption; a passphrase the operator set
      // (not shown here) stays as it is.
      if (!recipients.length && editing.encryption?.recipients) delete merged.encryption;
      if (!spec.schedule) { delete merged.schedule; delete merged.timezone; }
      r = await api("PUT", `/api/admin/jobs/${encodeURIComponent(editing.name)}`, merged);
    } else {
      r = await api("POST", "/api/admin/jobs", spec);
    }
    if (r.ok) { location.reload(); return; }
    const errors = r.data?.errors ?? [{ field: "", message: r.data?.message ?? `Failed (${r.status})` }];
    for (const err of errors) {
      const top = err.field.split(/[.[]/)[0];
      const p = jobForm.querySelector(`.error[data-field="${top}"]`) ?? jobForm.querySelector('.error[data-field=""]');
      p.textContent = err.message;
      p.hidden = false;
    }
  });
}

// ---- per backup: verify, restore (typed confirmation), delete ----------------

for (const b of document.querySelectorAll("button.verify")) {
  b.addEventListener("click", async () => {
    const out = b.parentElement.querySelector(".result");
    out.textContent = "Verifying…";
    b.disabled = true;
    const r = await api("POST", `/api/admin/backups/${b.dataset.id}/verify`);
    out.textContent = r.ok ? `Good: ${r.data.format}` : `Failed: ${r.data?.message}`;
    b.disabled = false;
  });
}

for (const b of document.querySelectorAll("button.restore")) {
  b.addEventListener("click", async () => {
    const out = b.parentElement.querySelector(".result");
    const target = window.prompt("Restore into (a new database URI, file or directory):");
    if (!target) return;
    const again = window.prompt(`Type the target again to confirm restoring into ${target}:`);
    if (again !== target) { out.textContent = "Not restored: the confirmation did not match."; return; }
    b.disabled = true;
    const r = await api("POST", `/api/admin/backups/${b.dataset.id}/restore`, { to: target });
    if (!r.ok) { out.textContent = `Refused: ${r.data?.message}`; b.disabled = false; return; }
    follow(r.data.run_id, out, () => { b.disabled = false; });
  });
}

for (const b of document.querySelectorAll("button.delete")) {
  b.addEventListener("click", async () => {
    if (!window.confirm("Delete this backup from storage? This cannot be undone.")) return;
    const r = await api("DELETE", `/api/admin/backups/${b.dataset.id}`);
    if (r.ok) b.closest("tr").remove();
    else b.parentElement.querySelector(".result").textContent = r.data?.message;
  });
}

// ---- history: a run's log, fetched when opened -------------------------------

for (const d of document.querySelectorAll("details.run-log")) {
  d.addEventListener("toggle", async () => {
    if (!d.open || d.dataset.loaded) return;
    const r = await api("GET", `/api/admin/runs/${d.dataset.id}`);
    d.querySelector("pre").textContent = r.ok ? (r.data.log || "(empty)") : r.data?.message;
    d.dataset.loaded = "1";
  });
}

// ---- sign in / sign out ------------------------------------------------------

document.getElementById("logout")?.addEventListener("click", async () => {
  await api("POST", "/logout");
  location.href = "/login";
});

const loginForm = document.getElementById("login-form");
if (loginForm) {
  loginForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = document.getElementById("login-error");
    err.hidden = true;
    const r = await api("POST", "/login", { name: loginForm.elements.name.value, password: loginForm.elements.password.value });
    if (r.ok) { location.href = loginForm.dataset.next || "/dashboard/admin/backup"; return; }
    err.textContent = r.data?.message ?? `Sign-in failed (${r.status})`;
    err.hidden = false;
  });
}
