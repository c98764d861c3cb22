// Sauve's dashboard script. The rule the old page broke: loading or leaving the
// page open never sends a POST, PUT or DELETE. On load this file only reads
// (GET, and Server-Sent Events for runs in progress); every change below runs
// from a person's click or submit.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
// The prefix Sauve is mounted under (`--base-path`, "" at the root): every
// path this file asks for is written from the root and goes through at().
const BASE = document.documentElement.dataset.base ?? "";
const at = (path) => BASE + path;

// ---- language: the page's messages, written by the server -------------------
// The server puts this page's messages (from locales/<lang>/script.ftl) in a
// JSON block: id → pattern, each variable written `{$name}`. Every text this
// file shows goes through the function t, called with a literal "js-…" id
// (never a computed one: a test finds every id in this file's calls and
// checks both catalogs hold it; to choose among messages, write each call).
// Messages the server writes (an API error's `message`) are shown as they come.
const MESSAGES = (() => { try { return JSON.parse(document.getElementById("sauve-messages")?.textContent || "{}"); } catch { return {}; } })();
function t(id, args = {}) { const p = MESSAGES[id]; if (p === undefined) return id; return p.replace(/\{\$([A-Za-z0-9_-]+)\}/g, (_, k) => (k in args ? String(args[k]) : "")); }
const LANG = document.documentElement.lang === "fr" ? "fr" : "en";
// Which of a message's two forms a count takes ("-one" or "-other"): French
// says "0 fichier", English "0 files".
const PLURALS = new Intl.PluralRules(LANG);
const isOne = (n) => PLURALS.select(Number(n)) === "one";

// A number with `digits` decimals, as the server prints it: "1.5", in French "1,5".
function dec(n, digits = 1) {
  const s = (Number(n) || 0).toFixed(digits);
  return LANG === "fr" ? s.replace(".", ",") : s;
}

async function api(method, url, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(at(url), {
    method,
    headers,
    // A string is JSON the caller serialised itself (to map an error's column back to a field).
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  return { ok: res.ok, status: res.status, data };
}

// Sizes as the server prints them: "512 B", "1.5 KiB"; in French "512 o", "1,5 Kio".
function human(bytes) {
  const units = LANG === "fr" ? ["o", "Kio", "Mio", "Gio", "Tio"] : ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Number(bytes) || 0, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  if (u === 0) return `${LANG === "fr" ? String(v).replace(".", ",") : v} ${units[0]}`;
  return `${dec(v)} ${units[u]}`;
}

// Dates as the server renders them on this page: "2026-05-01 02:00:00 UTC";
// in French "01/05/2026 02:00:00 UTC".
function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? "");
  const s = d.toISOString();
  if (LANG === "fr") return `${s.slice(8, 10)}/${s.slice(5, 7)}/${s.slice(0, 4)} ${s.slice(11, 19)} UTC`;
  return `${s.slice(0, 19).replace("T", " ")} UTC`;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// ---- live progress of a run (GET only: Server-Sent Events) -----------------

// How a finished run ended, in words: "Succeeded: 3.0 MiB stored.", "Failed: …".
function ended(s, kind) {
  const error = s.error ?? "";
  switch (s.state) {
    case "succeeded":
      return kind === "prune" ? t("js-run-succeeded-retention") : t("js-run-succeeded-stored", { size: human(s.bytes_out) });
    case "partial": return t("js-run-partial", { error });
    case "failed": return t("js-run-failed", { error });
    case "cancelled": return t("js-run-cancelled", { error });
    // A state this file does not know yet: its name, as the server spells it.
    default: return t("js-run-ended", { state: `${s.state[0].toUpperCase()}${s.state.slice(1)}`, error });
  }
}

// What a run in progress is doing: "Backing up: read 1.5 MiB (…)", "Restoring… 12 s".
function progressText(p) {
  const secs = Math.round(p.elapsed_secs);
  // Restores and verifies count no bytes yet: say what runs, not "0 B".
  if (p.kind && p.kind !== "backup") {
    switch (p.kind) {
      case "restore": return t("js-progress-restore", { secs });
      case "verify": return t("js-progress-verify", { secs });
      case "test_restore": return t("js-progress-test-restore", { secs });
      case "prune": return t("js-progress-prune", { secs });
      default: return t("js-progress-other", { secs });
    }
  }
  const args = { read: human(p.bytes_in), rate: human(p.rate), stored: human(p.bytes_out) };
  return p.eta_secs == null
    ? t("js-progress-backup", args)
    : t("js-progress-backup-eta", { ...args, eta: Math.round(p.eta_secs) });
}

// `prefix` (e.g. "Queued run 01H…") stays at the start of every message.
function follow(runId, box, onDone, { prefix = "", kind = "backup" } = {}) {
  if (!runId || !box) return;
  const say = (text) => { box.textContent = prefix ? t("js-prefixed", { prefix, text }) : text; };
  say(t("js-queued"));
  const events = new EventSource(at(`/api/admin/runs/${encodeURIComponent(runId)}/events`));
  events.addEventListener("state", (e) => {
    const s = JSON.parse(e.data);
    if (s.state === "queued") say(t("js-queued"));
    else if (s.state === "running") say(t("js-running"));
    else {
      events.close();
      say(ended(s, kind));
      box.dataset.state = s.state;
      if (onDone) onDone(s);
    }
  });
  events.addEventListener("progress", (e) => {
    say(progressText(JSON.parse(e.data)));
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
    box.textContent = t("js-starting");
    // The key makes a repeated request (double click, retry) the same run.
    const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    const r = await api("POST", "/api/admin/backups", { job: button.dataset.job }, { "Idempotency-Key": key });
    if (!r.ok) {
      box.textContent = r.data?.message ?? t("js-failed-status", { status: r.status });
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
    if (!r.ok) { error.textContent = r.data?.message ?? t("js-schedule-invalid"); error.hidden = false; return; }
    for (const at of r.data.next) { const li = document.createElement("li"); li.textContent = at; list.append(li); }
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
    if (!r.ok) { error.textContent = r.data?.message ?? t("js-schedule-not-saved"); error.hidden = false; return; }
    // The API describes schedules in English: a page in another language
    // reads its own words again (a GET) instead of showing the API's.
    if (LANG !== "en") { location.reload(); return; }
    const card = editor.closest(".card");
    card.querySelector(".schedule-words").textContent = r.data.schedule_description ?? t("js-schedule-on-demand");
    card.querySelector(".next-run").textContent = r.data.next_run ?? "—";
    editor.dataset.schedule = r.data.schedule ?? "";
    editor.open = false;
  });
}

// ---- create or edit a job ----------------------------------------------------

const jobForm = document.getElementById("job-form");
// The same form edits a job: "Edit job" fills it from the API and switches it to
// PUT; fields the form does not show (compression, overlap…) are kept as they were.
let editing = null;

// Fields the API adds to a job that are not part of its spec.
const VIEW_ONLY = ["source_kind", "schedule_description", "next_run", "created_at", "updated_at"];

// -- retention: the job-level policy (destinations' own tables are kept as written)

const retentionInputs = jobForm ? [...jobForm.querySelectorAll("input[data-retention]")] : [];
const KEEP_RULES = retentionInputs.map((i) => i.name).filter((n) => n.startsWith("keep_"));

// Empty inputs are left out; counts and numbers go as numbers, "unlimited" as
// the string; anything else as typed, for the server to say what is wrong.
function retentionValue(input) {
  const v = input.value.trim();
  if (!v) return undefined;
  if (input.dataset.retention === "count" && /^unlimited$/i.test(v)) return "unlimited";
  if (["count", "number"].includes(input.dataset.retention) && /^\d{1,15}$/.test(v)) return Number(v);
  return v;
}

function retentionSpec() {
  const spec = {};
  for (const input of retentionInputs) {
    const v = retentionValue(input);
    if (v !== undefined) spec[input.name] = v;
  }
  return spec;
}

// The policy as JSON, with where each key's entry starts: serde's errors say
// "at line 1 column N", which names no field; the column does.
function spannedJson(obj, offset = 0) {
  const spans = [];
  let text = "{";
  for (const [k, v] of Object.entries(obj)) {
    if (text.length > 1) text += ",";
    spans.push({ key: k, start: offset + text.length });
    text += `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  }
  return { text: `${text}}`, spans };
}

// "…: \"lots\" is not a count: … at line 1 column 23" → the retention key at
// that column (or null), and the message without the parser's framing.
function locate(message, spans) {
  const m = /^(?:not a (?:valid job|retention policy): )?(.*?)(?: at line \d+ column (\d+))?$/s.exec(message ?? "");
  const text = m?.[1] || message || "";
  const col = m?.[2] ? Number(m[2]) - 1 : null;
  let key = null;
  if (col !== null && spans.length) {
    for (const s of spans) if (s.start <= col) key = s.key;
  }
  return { key, text };
}

function hasRules(spec) {
  return KEEP_RULES.some((k) => spec[k] !== undefined && spec[k] !== 0);
}

function clearErrors(scope) {
  for (const p of scope.querySelectorAll(".error[data-field]")) { p.hidden = true; p.textContent = ""; }
  for (const i of scope.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

// Shows each {field, message} beside its input: `retention.keep_daily` beside
// keep_daily; a parse error of the body or policy beside the key at its column.
function showErrors(errors, spans = []) {
  for (const err of errors) {
    let field = err.field ?? "";
    let message = err.message;
    if (field === "policy" || field === "body") {
      const where = locate(message, spans);
      if (where.key) { field = `retention.${where.key}`; message = where.text; }
      else if (field === "policy") field = "retention";
    }
    const exact = jobForm.querySelector(`.error[data-field="${CSS.escape(field)}"]`);
    const p = exact
      ?? jobForm.querySelector(`.error[data-field="${CSS.escape(field.split(/[.[]/)[0])}"]`)
      ?? jobForm.querySelector('.error[data-field=""]');
    p.textContent = p.hidden ? message : `${p.textContent} ${message}`;
    p.hidden = false;
    if (exact && field.startsWith("retention.")) {
      jobForm.elements[field.slice("retention.".length)]?.setAttribute("aria-invalid", "true");
    }
  }
}

// -- the plan of the policy being written, before it is saved (GET only) -------

const planStatus = document.getElementById("plan-status");
const planResult = document.getElementById("plan-result");
let planSeq = 0;
let createdById = new Map();

function planIdle() {
  planSeq++;
  planResult?.replaceChildren();
  if (planStatus) {
    planStatus.textContent = editing ? t("js-plan-idle-edit") : t("js-plan-no-backups");
  }
}

// The job's backups ({created_at, size, …}) by id, into `into` (the plan names
// backups by id only). A GET per page of 500, until every id is found.
async function loadBackups(job, ids, into) {
  if (ids.every((id) => into.has(id))) return;
  let cursor = "";
  for (let page = 0; page < 10; page++) {
    const q = new URLSearchParams({ job, limit: "500" });
    if (cursor) q.set("cursor", cursor);
    const r = await api("GET", `/api/admin/backups?${q}`);
    if (!r.ok) return;
    for (const b of r.data.items) into.set(b.id, b);
    cursor = r.data.next_cursor;
    if (!cursor || ids.every((id) => into.has(id))) return;
  }
}

// Creation times of the job being edited's backups, by id.
async function loadCreated(job, ids) {
  return loadBackups(job, ids, createdById);
}

// A backup as its creation time (its id on hover), or its id when unknown.
function backupLabel(id) {
  const created = createdById.get(id)?.created_at;
  return created ? el("time", { dateTime: created, title: id, textContent: when(created) }) : el("code", { textContent: id });
}

function planList(title, items, render) {
  const d = el("details", { className: "plan-list", open: items.length <= 12 },
    el("summary", { textContent: t("js-plan-list", { title, count: items.length }) }));
  d.append(el("ul", {}, ...items.map(render)));
  return d;
}

function renderPlan(plans, spec) {
  const kept = plans.reduce((n, p) => n + p.keep.length, 0);
  const removed = plans.reduce((n, p) => n + (p.refused ? 0 : p.remove.length), 0);
  const refused = plans.filter((p) => p.refused).length;
  // Sentences, joined by a space.
  const status = [];
  if (!kept && !removed) status.push(t("js-plan-no-backups"));
  else if (!hasRules(spec) && !plans.some((p) => p.remove.length)) status.push(t("js-plan-no-rules", { kept }));
  else if (plans.length > 1) status.push(t("js-plan-summary-across", { kept, removed, destinations: plans.length }));
  else status.push(t("js-plan-summary", { kept, removed }));
  if (removed) {
    const grace = (spec.trash_for ?? "").trim();
    if (/^(0[dhms])+$/.test(grace)) status.push(t("js-plan-purged-at-once"));
    else if (grace) status.push(t("js-plan-restorable-for", { grace }));
    else status.push(t("js-plan-restorable-default"));
  }
  if (refused && refused === plans.length) status.push(t("js-plan-refused-everywhere"));
  else if (refused) status.push(t("js-plan-refused-some", { refused, destinations: plans.length }));
  planStatus.textContent = status.join(" ");

  const blocks = plans.map((p) => {
    const block = el("div", { className: "plan-dest" });
    block.dataset.destination = p.destination;
    block.append(el("h4", {}, el("code", { textContent: p.destination })));
    const gone = p.refused ? 0 : p.remove.length;
    block.append(el("p", { className: "plan-counts", textContent: t("js-plan-counts", { kept: p.keep.length, removed: gone }) }));
    if (p.refused) block.append(el("p", { className: "error plan-refused", textContent: t("js-plan-refused", { reason: p.refused }) }));
    if (p.keep.length) {
      block.append(planList(t("js-plan-kept"), p.keep, (k) => el("li", { className: "plan-keep" }, backupLabel(k.id), " — ", el("span", { className: "reasons", textContent: k.reasons.join(", ") }))));
    }
    if (p.remove.length && !p.refused) {
      block.append(planList(t("js-plan-to-trash"), p.remove, (r) => el("li", { className: "plan-remove" }, backupLabel(r.id))));
    }
    if (p.not_counted?.length) {
      block.append(el("p", { className: "hint", textContent: t("js-plan-not-counted-hint") }));
      block.append(planList(t("js-plan-not-counted"), p.not_counted, (n) => el("li", { className: "plan-not-counted" }, backupLabel(n.id), `: ${n.why}`)));
    }
    if (!p.keep.length && !p.remove.length && !p.not_counted?.length) {
      block.append(el("p", { className: "empty", textContent: t("js-plan-empty-destination") }));
    }
    return block;
  });
  planResult.replaceChildren(...blocks);
}

const planNow = debounce(async () => {
  if (!editing || !planStatus) return;
  const seq = ++planSeq;
  const job = editing.name;
  const spec = retentionSpec();
  const { text, spans } = spannedJson(spec);
  clearErrors(jobForm.querySelector("fieldset.retention"));
  planStatus.textContent = t("js-planning");
  const r = await api("GET", `/api/admin/jobs/${encodeURIComponent(job)}/retention-plan?${new URLSearchParams({ policy: text })}`)
    .catch((err) => ({ ok: false, status: 0, data: { message: String(err) } }));
  if (r.ok) {
    const ids = r.data.flatMap((p) => [...p.keep, ...p.remove, ...(p.not_counted ?? [])].map((b) => b.id));
    await loadCreated(job, ids).catch(() => {});
  }
  // A newer keystroke asked again meanwhile, or the form moved on.
  if (seq !== planSeq || editing?.name !== job) return;
  if (r.ok) { renderPlan(r.data, spec); return; }
  planResult.replaceChildren();
  if (r.status === 422) {
    showErrors(r.data?.errors ?? [{ field: r.data?.field ?? "retention", message: r.data?.message }], spans);
    planStatus.textContent = t("js-plan-invalid");
  } else {
    planStatus.textContent = r.data?.message != null
      ? t("js-plan-failed", { message: r.data.message })
      : t("js-plan-failed-status", { status: r.status });
  }
}, 400);

function updateRetentionNote() {
  const none = document.getElementById("retention-none");
  if (none) none.hidden = hasRules(retentionSpec());
}

function channelLines() {
  return jobForm.elements.notify.value.split("\n").map((s) => s.trim()).filter(Boolean);
}

// -- notifications: a test to a channel, on a click -------------------------

async function sendTest(channel) {
  const r = await api("POST", "/api/admin/notifications/test", { channel })
    .catch((err) => ({ ok: false, data: { message: String(err) } }));
  if (!r.ok) return { ok: false, text: r.data?.message ?? t("js-failed-status", { status: r.status }) };
  return {
    ok: true,
    text: r.data.status == null
      ? t("js-channel-sent-ok", { ms: r.data.duration_ms })
      : t("js-channel-sent", { status: r.data.status, ms: r.data.duration_ms }),
  };
}

for (const b of document.querySelectorAll("button.send-test")) {
  b.addEventListener("click", async () => {
    const out = b.nextElementSibling;
    b.disabled = true;
    out.textContent = t("js-channel-sending");
    const r = await sendTest(b.dataset.channel);
    out.textContent = r.text;
    out.className = `result ${r.ok ? "state-succeeded" : "error"}`;
    b.disabled = false;
  });
}

function resetJobForm() {
  editing = null;
  createdById = new Map();
  jobForm.reset();
  clearErrors(jobForm);
  jobForm.elements.name.readOnly = false;
  jobForm.querySelector('button[type="submit"]').textContent = t("js-job-create");
  document.getElementById("cancel-edit").hidden = true;
  document.getElementById("new-title").textContent = t("js-job-create-title");
  const note = document.getElementById("retention-dest-note");
  if (note) note.hidden = true;
  updateRetentionNote();
  planIdle();
}

for (const b of document.querySelectorAll("button.edit-job")) {
  b.addEventListener("click", async () => {
    const r = await api("GET", `/api/admin/jobs/${encodeURIComponent(b.dataset.job)}`);
    if (!r.ok) return;
    const job = r.data;
    editing = job;
    createdById = new Map();
    clearErrors(jobForm);
    const f = jobForm.elements;
    f.name.value = job.name;
    f.name.readOnly = true;
    f.source.value = typeof job.source === "string" ? job.source : "";
    // A destination written as a table ({uri, retention}) shows as its URI.
    f.destinations.value = job.destinations.map((d) => (typeof d === "string" ? d : d.uri)).join("\n");
    f.recipients.value = (job.encryption?.recipients ?? []).join("\n");
    f.schedule.value = job.schedule ?? "";
    f.timezone.value = job.timezone ?? "";
    f.notify.value = (job.notify ?? []).join("\n");
    f.max_age.value = job.max_age ?? "";
    for (const input of retentionInputs) {
      const v = job.retention?.[input.name];
      input.value = v === undefined || v === null ? "" : String(v);
    }
    const more = jobForm.querySelector("details.more-rules");
    if (more) more.open = [...more.querySelectorAll("input[data-retention]")].some((i) => i.value);
    const own = job.destinations.filter((d) => typeof d !== "string" && d.retention).map((d) => d.uri);
    const note = document.getElementById("retention-dest-note");
    if (note) {
      note.textContent = own.length ? t("js-job-dest-own-rules", { uris: own.join(", ") }) : "";
      note.hidden = !own.length;
    }
    updateRetentionNote();
    planIdle();
    jobForm.querySelector('button[type="submit"]').textContent = t("js-job-save");
    document.getElementById("cancel-edit").hidden = false;
    document.getElementById("new-title").textContent = t("js-job-edit-title", { name: job.name });
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
  updateRetentionNote();
  // Only a person's typing plans (a GET); loading the page or "Edit job" does not.
  jobForm.querySelector("fieldset.retention")?.addEventListener("input", (e) => {
    if (!e.target.matches("input[data-retention]")) return;
    const err = jobForm.querySelector(`.error[data-field="retention.${CSS.escape(e.target.name)}"]`);
    if (err) err.hidden = true;
    e.target.removeAttribute("aria-invalid");
    updateRetentionNote();
    if (editing) planNow();
  });
  document.getElementById("test-source").addEventListener("click", async () => {
    const out = document.getElementById("test-result");
    out.textContent = t("js-source-testing");
    const r = await api("POST", "/api/admin/sources/test", { source: f.source.value.trim() });
    if (!r.ok) out.textContent = r.data?.message ?? t("js-failed-status", { status: r.status });
    else if (r.data.server_version) out.textContent = t("js-source-ok-server", { kind: r.data.kind, name: r.data.name, version: r.data.server_version });
    else out.textContent = t("js-source-ok", { kind: r.data.kind, name: r.data.name });
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
      li.textContent = t("js-destinations-none");
      out.append(li);
      return;
    }
    testDestinations.disabled = true;
    for (const uri of uris) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = uri;
      const result = document.createElement("span");
      result.textContent = t("js-destination-testing");
      li.append(code, ": ", result);
      out.append(li);
      const r = await api("POST", "/api/admin/destinations/test", { destination: uri })
        .catch((err) => ({ ok: false, data: { message: String(err) } }));
      result.textContent = r.ok
        ? t("js-destination-works", { steps: r.data.steps.map(([op, ms]) => t("js-destination-step", { op, ms })).join(", ") })
        : r.data?.message ?? t("js-failed-status", { status: r.status });
      li.className = r.ok ? "state-succeeded" : "error";
    }
    testDestinations.disabled = false;
  });
  // A test per channel line, only on this click (one POST each).
  const testChannels = document.getElementById("test-channels");
  testChannels.addEventListener("click", async () => {
    const out = document.getElementById("channel-results");
    out.replaceChildren();
    const uris = channelLines();
    if (!uris.length) {
      out.append(el("li", { className: "error", textContent: t("js-channels-none") }));
      return;
    }
    testChannels.disabled = true;
    for (const uri of uris) {
      const result = el("span", { textContent: t("js-channel-sending") });
      const li = el("li", {}, el("code", { textContent: uri }), ": ", result);
      out.append(li);
      const r = await sendTest(uri);
      result.textContent = r.text;
      li.className = r.ok ? "state-succeeded" : "error";
    }
    testChannels.disabled = false;
  });
  const submit = jobForm.querySelector('button[type="submit"]');
  jobForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    clearErrors(jobForm);
    const spec = {
      name: f.name.value.trim(),
      source: f.source.value.trim(),
      destinations: f.destinations.value.split("\n").map((s) => s.trim()).filter(Boolean),
    };
    if (f.schedule.value.trim()) { spec.schedule = f.schedule.value.trim(); spec.timezone = f.timezone.value || "UTC"; }
    const recipients = f.recipients.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
    if (recipients.length) spec.encryption = { recipients };
    spec.notify = channelLines();
    if (f.max_age.value.trim()) spec.max_age = f.max_age.value.trim();
    const retention = retentionSpec();
    let body = spec;
    if (editing) {
      const merged = { ...editing, ...spec };
      for (const k of VIEW_ONLY) delete merged[k];
      // A command source is a table the form cannot show: keep it unless a URI was typed.
      if (typeof editing.source !== "string" && !spec.source) merged.source = editing.source;
      // Emptied keys remove the encryption; a passphrase the operator set
      // (not shown here) stays as it is.
      if (!recipients.length && editing.encryption?.recipients) delete merged.encryption;
      if (!spec.schedule) { delete merged.schedule; delete merged.timezone; }
      if (!spec.max_age) delete merged.max_age;
      // A destination written as a table keeps its table (its own retention).
      const tables = new Map(editing.destinations.filter((d) => typeof d !== "string").map((d) => [d.uri, d]));
      merged.destinations = spec.destinations.map((uri) => tables.get(uri) ?? uri);
      body = merged;
    }
    delete body.retention;
    // Serialised here, retention last, so a parse error's column names its key.
    let text = JSON.stringify(body);
    let spans = [];
    if (Object.keys(retention).length) {
      const head = `${text.slice(0, -1)}${text.length > 2 ? "," : ""}"retention":`;
      const r = spannedJson(retention, head.length);
      text = `${head}${r.text}}`;
      spans = r.spans;
    }
    submit.disabled = true;
    const r = editing
      ? await api("PUT", `/api/admin/jobs/${encodeURIComponent(editing.name)}`, text)
      : await api("POST", "/api/admin/jobs", text);
    submit.disabled = false;
    if (r.ok) { location.reload(); return; }
    showErrors(r.data?.errors ?? [{ field: r.data?.field ?? "", message: r.data?.message ?? t("js-failed-status", { status: r.status }) }], spans);
    jobForm.querySelector(".error:not([hidden])")?.scrollIntoView({ block: "center" });
  });
}

// ---- Apply retention now: one click, one POST, one prune run -----------------

for (const button of document.querySelectorAll("button.prune-now")) {
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    button.disabled = true;
    const out = button.closest(".card").querySelector(".prune-result");
    out.textContent = t("js-prune-asking");
    const r = await api("POST", `/api/admin/jobs/${encodeURIComponent(button.dataset.job)}/prune`)
      .catch((err) => ({ ok: false, status: 0, data: { message: String(err) } }));
    if (!r.ok) {
      out.textContent = r.data?.message ?? t("js-failed-status", { status: r.status });
      button.disabled = false;
      return;
    }
    const prefix = r.data.created === false
      ? t("js-prune-already-queued", { id: r.data.run_id })
      : t("js-prune-queued", { id: r.data.run_id });
    out.textContent = prefix;
    follow(r.data.run_id, out, (s) => {
      button.disabled = false;
      // The trash and the backups changed: show them (a GET).
      if (s.state === "succeeded") setTimeout(() => location.reload(), 1500);
    }, { prefix, kind: "prune" });
  });
}

// ---- the trash: undelete, one POST per click ---------------------------------

for (const b of document.querySelectorAll("button.undelete")) {
  b.addEventListener("click", async () => {
    if (b.disabled) return;
    b.disabled = true;
    const row = b.closest("tr");
    const out = row.querySelector(".result");
    out.textContent = t("js-undelete-running");
    const r = await api("POST", `/api/admin/backups/${encodeURIComponent(b.dataset.id)}/undelete`)
      .catch((err) => ({ ok: false, status: 0, data: { message: String(err) } }));
    if (!r.ok) {
      out.textContent = r.data?.message ?? t("js-failed-status", { status: r.status });
      b.disabled = false;
      return;
    }
    row.classList.add("restored");
    b.hidden = true;
    // As the CLI says: the policy has not changed, so the next prune would take it again.
    out.textContent = t("js-undelete-done");
  });
}

// ---- per backup: verify, restore (typed confirmation), delete ----------------

for (const b of document.querySelectorAll("button.verify")) {
  b.addEventListener("click", async () => {
    const out = b.parentElement.querySelector(".result");
    out.textContent = t("js-verify-running");
    b.disabled = true;
    const r = await api("POST", `/api/admin/backups/${b.dataset.id}/verify`);
    out.textContent = r.ok ? t("js-verify-good", { format: r.data.format }) : t("js-failed-message", { message: r.data?.message });
    b.disabled = false;
  });
}

for (const b of document.querySelectorAll("button.test-restore")) {
  b.addEventListener("click", async () => {
    const out = b.parentElement.querySelector(".result");
    out.textContent = t("js-test-restore-running");
    b.disabled = true;
    const r = await api("POST", `/api/admin/backups/${b.dataset.id}/test-restore`);
    if (r.ok) {
      const d = r.data;
      // "1 table, 2 rows, 3 checks passed", or "12 files, …".
      const found = [];
      if (d.files) {
        const count = d.files.files;
        found.push(isOne(count) ? t("js-test-restore-files-one", { count }) : t("js-test-restore-files-other", { count }));
      } else {
        const tables = d.tables.length;
        const rows = d.tables.reduce((n, table) => n + table.rows, 0);
        found.push(isOne(tables) ? t("js-test-restore-tables-one", { count: tables }) : t("js-test-restore-tables-other", { count: tables }));
        found.push(isOne(rows) ? t("js-test-restore-rows-one", { count: rows }) : t("js-test-restore-rows-other", { count: rows }));
      }
      const checks = d.checks.length;
      if (checks) found.push(isOne(checks) ? t("js-test-restore-checks-one", { count: checks }) : t("js-test-restore-checks-other", { count: checks }));
      const args = { found: found.join(", "), secs: dec(d.duration_ms / 1000) };
      out.textContent = d.dropped ? t("js-test-restore-dropped", args) : t("js-test-restore-not-dropped", args);
    } else {
      out.textContent = t("js-failed-message", { message: r.data?.message });
    }
    b.disabled = false;
  });
}

for (const b of document.querySelectorAll("button.restore")) {
  b.addEventListener("click", async () => {
    const out = b.parentElement.querySelector(".result");
    const target = window.prompt(t("js-restore-prompt-target"));
    if (!target) return;
    const again = window.prompt(t("js-restore-prompt-confirm", { target }));
    if (again !== target) { out.textContent = t("js-restore-mismatch"); return; }
    b.disabled = true;
    const r = await api("POST", `/api/admin/backups/${b.dataset.id}/restore`, { to: target });
    if (!r.ok) { out.textContent = t("js-restore-refused", { message: r.data?.message }); b.disabled = false; return; }
    follow(r.data.run_id, out, () => { b.disabled = false; });
  });
}

for (const b of document.querySelectorAll("button.delete")) {
  b.addEventListener("click", async () => {
    if (!window.confirm(t("js-delete-confirm"))) return;
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
    d.querySelector("pre").textContent = r.ok ? (r.data.log || t("js-log-empty")) : r.data?.message;
    d.dataset.loaded = "1";
  });
}

// ---- storage: what retention would remove now, read when opened (GET only) ----

// The job's own plan (no proposed policy), one GET per job however many of its
// destinations are opened; a failed answer is asked again at the next opening.
const storagePlans = new Map();
// The backups those plans name, by id (for their dates and sizes).
const storageBackups = new Map();

function storagePlan(job) {
  if (!storagePlans.has(job)) {
    const asked = api("GET", `/api/admin/jobs/${encodeURIComponent(job)}/retention-plan`)
      .catch((err) => ({ ok: false, status: 0, data: { message: String(err) } }));
    storagePlans.set(job, asked);
    asked.then((r) => { if (!r.ok) storagePlans.delete(job); });
  }
  return storagePlans.get(job);
}

async function showRemovals(details) {
  const out = details.querySelector(".removals");
  if (!out) return;
  const { job, destination } = details.dataset;
  const say = (text, className = "") => out.replaceChildren(el("p", { className, textContent: text }));
  say(t("js-planning"));
  const r = await storagePlan(job);
  if (!r.ok) {
    say(r.data?.message ?? t("js-failed-status", { status: r.status }), "error");
    details.dataset.loaded = "";
    return;
  }
  const plan = (Array.isArray(r.data) ? r.data : []).find((p) => p.destination === destination);
  if (!plan) { say(t("js-removals-no-destination"), "error"); return; }
  // The destination could not be listed: what the server says.
  if (plan.error) { say(plan.error, "error"); return; }
  if (plan.refused) { say(t("js-plan-refused", { reason: plan.refused }), "error plan-refused"); return; }
  const removed = plan.remove ?? [];
  if (!removed.length) { say(t("js-removes-nothing"), "empty"); return; }
  // The plan names backups by id: their dates and sizes come from the backup
  // list (a GET), unless the plan gives them; else the line is the id.
  const missing = removed.filter((b) => b.created_at == null || b.size == null).map((b) => b.id);
  if (missing.length) await loadBackups(job, missing, storageBackups).catch(() => {});
  const count = removed.length;
  out.replaceChildren(
    el("ul", {}, ...removed.map((b) => {
      const known = storageBackups.get(b.id);
      const created = b.created_at ?? known?.created_at;
      const size = b.size ?? known?.size;
      const label = created
        ? el("time", { dateTime: created, title: b.id, textContent: when(created) })
        : el("code", { textContent: b.id });
      return el("li", { className: "plan-remove" }, label,
        ...(size == null ? [] : [" — ", el("span", { className: "size", textContent: human(size) })]));
    })),
    el("p", { className: "removals-count", textContent: isOne(count) ? t("js-removals-count-one", { count }) : t("js-removals-count-other", { count }) }),
  );
}

for (const d of document.querySelectorAll("details.next-removals")) {
  // A person opened it: read the plan once (a GET; nothing is removed).
  d.addEventListener("toggle", () => {
    if (!d.open || d.dataset.loaded) return;
    d.dataset.loaded = "1";
    showRemovals(d).catch((err) => {
      d.dataset.loaded = "";
      d.querySelector(".removals")?.replaceChildren(el("p", { className: "error", textContent: String(err) }));
    });
  });
}

// ---- sign in / sign out ------------------------------------------------------

document.getElementById("logout")?.addEventListener("click", async () => {
  await api("POST", "/logout");
  location.href = at("/login");
});

const loginForm = document.getElementById("login-form");
if (loginForm) {
  loginForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = document.getElementById("login-error");
    err.hidden = true;
    const r = await api("POST", "/login", { name: loginForm.elements.name.value, password: loginForm.elements.password.value });
    if (r.ok) { location.href = loginForm.dataset.next || at("/dashboard/admin/backup"); return; }
    err.textContent = r.data?.message ?? t("js-sign-in-failed", { status: r.status });
    err.hidden = false;
  });
}
