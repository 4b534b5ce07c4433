/* ims web UI: plain JavaScript over the JSON API (docs/api.md).
 * Every value from the server goes into the page through textContent or
 * attributes, never as HTML; the one exception is a message's HTML part,
 * which the server has sanitised and which is shown in a sandboxed iframe
 * (no scripts, no same origin). */
"use strict";

const state = { access: null, refresh: null, user: null };
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick" || k === "onsubmit" || k === "onchange") e[k] = v;
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function flash(msg, error) {
  const f = $("#flash");
  f.textContent = msg;
  f.className = error ? "error" : "";
  f.hidden = false;
  clearTimeout(flash.t);
  flash.t = setTimeout(() => { f.hidden = true; }, 4000);
}

function save() {
  sessionStorage.setItem("ims", JSON.stringify(state));
}

function load() {
  try { Object.assign(state, JSON.parse(sessionStorage.getItem("ims") || "{}")); } catch (e) { /* ignore */ }
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || ("HTTP " + status));
    this.status = status;
  }
}

/* One API call; refreshes the access token once on 401. */
async function api(method, path, body, opts) {
  opts = opts || {};
  const headers = {};
  if (state.access) headers["Authorization"] = "Bearer " + state.access;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401 && state.refresh && !opts.noRefresh) {
    if (await refresh()) return api(method, path, body, { noRefresh: true, raw: opts.raw });
    logout(true);
  }
  if (opts.raw) {
    if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
    return r;
  }
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

async function refresh() {
  const r = await fetch("/auth/refresh", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: state.refresh }),
  });
  if (!r.ok) return false;
  const t = await r.json();
  state.access = t.access_token;
  state.refresh = t.refresh_token;
  state.user = t.user;
  save();
  return true;
}

async function login(address, password) {
  const t = await api("POST", "/auth/login", { address, password }, { noRefresh: true });
  state.access = t.access_token;
  state.refresh = t.refresh_token;
  state.user = t.user;
  save();
}

async function logout(expired) {
  if (!expired && state.access) {
    try { await api("POST", "/auth/logout", undefined, { noRefresh: true }); } catch (e) { /* gone already */ }
  }
  state.access = state.refresh = state.user = null;
  save();
  location.hash = "#/login";
  render();
}

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "";
  return new Date(ms).toLocaleString();
}

function badge(v) {
  return v ? el("span", { class: "badge " + v }, v) : "";
}

function score(v) {
  return typeof v === "number" ? v.toFixed(2) : "";
}

function view(...children) {
  const v = $("#view");
  v.replaceChildren(...children);
  return v;
}

/* ---- mail ---- */

/* The user's folders (Dovecot's, the same an IMAP client shows), with
 * unread counts, and a search box over the shown folder. */
async function folderBar(current, q) {
  const { folders } = await api("GET", "/emails/folders");
  const search = el("form", { class: "search", id: "search" },
    el("input", { name: "q", type: "search", placeholder: "Search sender, subject, text", value: q || "" }),
    el("button", { type: "submit", class: "secondary" }, "Search"));
  search.onsubmit = (ev) => {
    ev.preventDefault();
    const v = new FormData(search).get("q");
    location.hash = "#/folder/" + encodeURIComponent(current) + (v ? "?" + new URLSearchParams({ q: v }) : "");
  };
  return el("div", { class: "folders", id: "folders" },
    folders.map((f) => el("a", { href: "#/folder/" + encodeURIComponent(f.name), "data-folder": f.name,
      class: f.name === current ? "active" : "" }, f.name + (f.unseen ? " (" + f.unseen + ")" : ""))),
    current === "Trash" ? el("button", { class: "secondary", id: "empty-trash", onclick: async () => {
      await api("POST", "/emails/trash/empty");
      flash("Trash emptied.");
      render();
    } }, "Empty Trash") : "",
    search);
}

async function folderView(folder, cursor, q) {
  const params = new URLSearchParams({ limit: "50", folder });
  if (cursor) params.set("cursor", cursor);
  if (q) params.set("q", q);
  const [bar, page] = await Promise.all([folderBar(folder, q), api("GET", "/emails?" + params)]);
  const sent = folder === "Sent";
  const rows = page.items.map((m) => el("tr", {
    class: "clickable" + (m.seen ? "" : " unseen"), "data-id": m.id,
    onclick: () => { location.hash = "#/message/" + m.id; },
  }, el("td", {}, m.flagged ? "★" : ""), el("td", {}, (sent ? m.to : m.from) || ""),
     el("td", {}, m.subject || "(no subject)"),
     el("td", {}, fmtTime(m.received)), el("td", {}, badge(m.verdict)), el("td", { class: "num" }, score(m.score)),
     el("td", {}, badge(m.action))));
  view(bar, el("h1", {}, folder === "INBOX" ? "Inbox" : folder),
    el("table", { id: "mail-list" }, el("thead", {}, el("tr", {}, el("th", {}, ""),
      el("th", {}, sent ? "To" : "From"),
      el("th", {}, "Subject"), el("th", {}, "Received"), el("th", {}, "Verdict"), el("th", { class: "num" }, "Score"),
      el("th", {}, "Action"))), el("tbody", {}, rows)),
    rows.length ? "" : el("p", {}, "No messages."),
    page.next_cursor ? el("div", { class: "pager" }, el("button", { class: "secondary",
      onclick: () => folderView(folder, page.next_cursor, q) }, "Older")) : "");
}

async function messageView(id) {
  const [m, { folders }] = await Promise.all([api("GET", "/emails/" + encodeURIComponent(id)),
    api("GET", "/emails/folders")]);
  const scan = m.scan || {};
  const flags = m.flags || [];
  const back = () => { location.hash = "#/folder/" + encodeURIComponent(m.folder || "INBOX"); };
  const symbols = (scan.symbols || []).map((s) => el("tr", {}, el("td", {}, s.name),
    el("td", { class: "num" }, score(s.weight)), el("td", {}, s.detail || "")));
  let body;
  if (m.html) {
    body = el("iframe", { class: "html-body", sandbox: "", referrerpolicy: "no-referrer", title: "message" });
    body.srcdoc = m.html;
  } else {
    body = el("pre", { class: "body" }, m.text || "");
  }
  /* "Report spam" moves the message into Junk and "Not spam" out of it,
   * as the same moves in any mail client do; both teach ims. */
  const report = (label) => async () => {
    const r = await api("POST", "/emails/" + id + "/report", { label });
    flash("Reported as " + label + (r.folder !== m.folder ? "; moved to " + r.folder : "") + ". Thank you.");
    back();
  };
  const setFlags = (f) => async () => { await api("POST", "/emails/" + id + "/flags", f); back(); };
  const move = el("select", { id: "move-to", onchange: async (ev) => {
    if (!ev.target.value) return;
    await api("POST", "/emails/" + id + "/move", { folder: ev.target.value });
    flash("Moved to " + ev.target.value + ".");
    back();
  } }, el("option", { value: "" }, "Move to…"),
    folders.filter((f) => f.name !== m.folder).map((f) => el("option", { value: f.name }, f.name)));
  view(el("div", { class: "card", id: "message" },
    el("h1", { id: "subject" }, m.subject || "(no subject)"),
    el("dl", { class: "meta" }, el("dt", {}, "From"), el("dd", {}, m.from || ""), el("dt", {}, "To"),
      el("dd", {}, m.to || ""), m.cc ? [el("dt", {}, "Cc"), el("dd", {}, m.cc)] : "", el("dt", {}, "Date"),
      el("dd", {}, m.date || fmtTime(m.received)), el("dt", {}, "Folder"), el("dd", { id: "folder" }, m.folder || ""),
      el("dt", {}, "Scan"),
      el("dd", {}, badge(scan.verdict), " ", badge(scan.action), " score ", score(scan.score))),
    el("div", { class: "actions" },
      el("button", { class: "secondary", onclick: () => composeView({ reply: m, id }) }, "Reply"),
      el("button", { class: "secondary", onclick: () => composeView({ forward: m, id }) }, "Forward"),
      m.folder === "Junk" ? el("button", { class: "secondary", onclick: report("ham") }, "Not spam")
        : el("button", { class: "secondary", onclick: report("spam") }, "Report spam"),
      el("button", { class: "secondary", onclick: setFlags({ seen: false }) }, "Mark unread"),
      el("button", { class: "secondary", id: "flag", onclick: setFlags({ flagged: !flags.includes("\\Flagged") }) },
        flags.includes("\\Flagged") ? "Unflag" : "Flag"),
      move,
      el("button", { class: "secondary", onclick: () => downloadRaw(id) }, "Raw"),
      el("button", { class: "danger", onclick: async () => {
        await api("DELETE", "/emails/" + id);
        flash(m.folder === "Trash" ? "Deleted for good." : "Moved to Trash.");
        back();
      } }, "Delete")),
    body,
    m.attachments.length ? el("div", {}, el("h3", {}, "Attachments"), el("ul", {}, m.attachments.map((a) =>
      el("li", {}, (a.filename || "(unnamed)") + " — " + a.content_type + (a.size !== null ? ", " + a.size + " bytes" : ""))))) : "",
    symbols.length ? el("div", {}, el("h3", {}, "Why this verdict"), el("table", {}, el("tbody", {}, symbols))) : ""));
}

async function downloadRaw(id) {
  const r = await api("GET", "/emails/" + id + "/raw", undefined, { raw: true });
  const url = URL.createObjectURL(await r.blob());
  const a = el("a", { href: url, download: id + ".eml" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/* A new message, or a reply to / forward of the message of opts (the
 * server threads it: In-Reply-To and References). */
function composeView(opts) {
  const o = opts || {};
  const parent = o.reply || o.forward;
  const subj = parent ? (o.reply ? "Re: " : "Fwd: ") + (parent.subject || "").replace(/^(re|fwd?):\s*/i, "") : "";
  const quoted = parent ? "\n\n" + (o.reply ? (parent.from || "") + " wrote:\n" : "-------- Forwarded message --------\n") +
    (parent.text || "").split("\n").map((l) => (o.reply ? "> " : "") + l).join("\n") : "";
  const f = el("form", { class: "card", id: "compose" },
    el("h1", {}, o.reply ? "Reply" : o.forward ? "Forward" : "New message"),
    el("label", {}, "To", el("input", { name: "to", required: true, placeholder: "a@example.org, b@example.net",
      value: o.reply ? parent.from || "" : "" })),
    el("label", {}, "Cc", el("input", { name: "cc" })),
    el("label", {}, "Subject", el("input", { name: "subject", value: subj })),
    el("label", {}, "Message", el("textarea", { name: "text" }, quoted)),
    el("button", { type: "submit" }, "Send"));
  f.onsubmit = async (ev) => {
    ev.preventDefault();
    const d = new FormData(f);
    const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
    const msg = { to: list(d.get("to")), cc: list(d.get("cc")), subject: d.get("subject"), text: d.get("text") };
    if (o.reply) msg.in_reply_to = o.id;
    if (o.forward) msg.forward_of = o.id;
    try {
      await api("POST", "/emails/send", msg);
      flash("Sent.");
      location.hash = "#/folder/Sent";
    } catch (e) { flash(e.message, true); }
  };
  view(f);
}

/* ---- admin ---- */

async function scansView(params) {
  const form = el("form", { class: "filters", id: "scan-filters" },
    ...["verdict", "action", "symbol", "sender", "recipient"].map((k) =>
      el("label", {}, k, el("input", { name: k, value: params.get(k) || "" }))),
    el("button", { type: "submit" }, "Filter"));
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = "#/admin/scans?" + q;
  };
  const q = new URLSearchParams(params);
  q.set("limit", "50");
  const page = await api("GET", "/admin/scans?" + q);
  const rows = page.items.map((s) => el("tr", { class: "clickable", "data-id": s.id,
    onclick: () => { location.hash = "#/admin/scan/" + s.id; } },
    el("td", {}, fmtTime(s.time)), el("td", {}, s.mail_from || "<>"), el("td", {}, (s.rcpt || []).join(", ")),
    el("td", {}, s.subject || ""), el("td", {}, badge(s.verdict)), el("td", { class: "num" }, score(s.score)),
    el("td", {}, badge(s.action))));
  const next = new URLSearchParams(params);
  if (page.next_cursor) next.set("cursor", page.next_cursor);
  view(el("h1", {}, "Scans"), form,
    el("table", { id: "scan-list" }, el("thead", {}, el("tr", {}, ...["Time", "Sender", "Recipients", "Subject",
      "Verdict", "Score", "Action"].map((h) => el("th", {}, h)))), el("tbody", {}, rows)),
    page.next_cursor ? el("div", { class: "pager" }, el("a", { href: "#/admin/scans?" + next }, "Older")) : "");
}

async function scanView(id) {
  const s = await api("GET", "/admin/scans/" + encodeURIComponent(id));
  const auth = s.auth || {};
  view(el("div", { class: "card", id: "scan" },
    el("h1", {}, "Scan " + s.id),
    el("dl", { class: "meta" },
      el("dt", {}, "Time"), el("dd", {}, fmtTime(s.time)),
      el("dt", {}, "Direction"), el("dd", {}, s.direction || ""),
      el("dt", {}, "Client"), el("dd", {}, s.client ? (s.client.ip || "") + " " + (s.client.helo || "") : ""),
      el("dt", {}, "Envelope"), el("dd", {}, (s.mail_from || "<>") + " → " + (s.rcpt || []).join(", ")),
      el("dt", {}, "Subject"), el("dd", {}, s.subject || ""),
      el("dt", {}, "Result"), el("dd", {}, badge(s.verdict), " ", badge(s.action), " score ", score(s.score),
        s.reason ? " (" + s.reason + ")" : ""),
      el("dt", {}, "SPF / DKIM / DMARC"), el("dd", {}, [auth.spf || "-", (auth.dkim || []).map((d) =>
        d.domain + ":" + d.result).join(" ") || "-", auth.dmarc || "-"].join(" / ")),
      el("dt", {}, "Model"), el("dd", {}, s.model_version || "")),
    el("h3", {}, "Symbols"),
    el("table", { id: "symbols" }, el("thead", {}, el("tr", {}, el("th", {}, "Symbol"), el("th", { class: "num" }, "Weight"),
      el("th", {}, "Detail"))), el("tbody", {}, (s.symbols || []).map((x) => el("tr", {}, el("td", {}, x.name),
      el("td", { class: "num" }, score(x.weight)), el("td", {}, x.detail || ""))))),
    el("h3", {}, "Timings (µs)"),
    el("p", {}, Object.entries(s.timings_us || {}).map(([k, v]) => k + " " + v).join(", "))));
}

/* A held message's headers and text, from GET /admin/quarantine/{id}. */
async function quarantinePreview(id) {
  const p = await api("GET", "/admin/quarantine/" + id);
  const m = p.message || {};
  const box = $("#quarantine-preview");
  box.replaceChildren(el("h3", {}, p.subject || "(no subject)"),
    el("dl", { class: "meta" }, (m.headers || []).slice(0, 40).map((h) =>
      [el("dt", {}, h.name), el("dd", {}, h.value)])),
    el("pre", { class: "body" }, m.text || "(no text part)"));
  box.hidden = false;
}

async function quarantineView(cursor) {
  const q = new URLSearchParams({ limit: "50" });
  if (cursor) q.set("cursor", cursor);
  const page = await api("GET", "/admin/quarantine?" + q);
  const act = (label, fn, cls) => el("button", { class: cls || null, onclick: async () => {
    try { await fn(); } catch (e) { flash(e.message, true); }
  } }, label);
  const rows = page.items.map((m) => el("tr", { "data-id": m.id },
    el("td", {}, fmtTime(m.time)), el("td", {}, m.mail_from || "<>"), el("td", {}, m.rcpt || ""),
    el("td", {}, m.subject || ""), el("td", { class: "num" }, score(m.score)), el("td", {}, m.reason || ""),
    el("td", {}, m.released_by ? "released by " + m.released_by : [
      act("Release", async () => {
        await api("POST", "/admin/quarantine/" + m.id + "/release");
        flash("Released.");
        quarantineView(cursor);
      }),
      act("Not spam", async () => {
        await api("POST", "/admin/quarantine/" + m.id + "/release", { not_spam: true });
        flash("Released and reported as not spam.");
        quarantineView(cursor);
      }, "secondary"),
      act("Preview", () => quarantinePreview(m.id), "secondary"),
      act("Delete", async () => {
        if (!confirm("Delete this held message?")) return;
        await api("DELETE", "/admin/quarantine/" + m.id);
        flash("Deleted.");
        quarantineView(cursor);
      }, "secondary")])));
  view(el("h1", {}, "Quarantine"), el("table", { id: "quarantine-list" }, el("thead", {}, el("tr", {},
    ...["Time", "Sender", "Recipients", "Subject", "Score", "Reason", ""].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows)), rows.length ? "" : el("p", {}, "Nothing is held."),
    page.next_cursor ? el("div", { class: "pager" }, el("button", { class: "secondary",
      onclick: () => quarantineView(page.next_cursor) }, "Older")) : "",
    el("div", { class: "card", id: "quarantine-preview", hidden: true }));
}

/* What is held for the signed-in user (GET /emails/quarantine). */
async function heldView(cursor) {
  const q = new URLSearchParams({ limit: "50" });
  if (cursor) q.set("cursor", cursor);
  const page = await api("GET", "/emails/quarantine?" + q);
  const rows = page.items.map((m) => el("tr", { "data-id": m.id },
    el("td", {}, fmtTime(m.time)), el("td", {}, m.from || ""), el("td", {}, m.subject || ""),
    el("td", {}, m.reason || ""),
    el("td", {}, m.can_release ? el("button", { onclick: async () => {
      try {
        await api("POST", "/emails/quarantine/" + m.id + "/release");
        flash("Released to your inbox.");
        heldView(cursor);
      } catch (e) { flash(e.message, true); }
    } }, "Release") : "ask an admin")));
  view(el("h1", {}, "Held for review"), el("table", { id: "held-list" }, el("thead", {}, el("tr", {},
    ...["Time", "From", "Subject", "Why", ""].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows)), rows.length ? "" : el("p", {}, "Nothing is held for you."),
    page.next_cursor ? el("div", { class: "pager" }, el("button", { class: "secondary",
      onclick: () => heldView(page.next_cursor) }, "Older")) : "");
}

async function sendersView() {
  const page = await api("GET", "/settings/senders");
  const f = el("form", { class: "filters", id: "sender-form" },
    el("label", {}, "Address or domain", el("input", { name: "entry", required: true })),
    el("label", {}, "Action", el("select", { name: "action" }, el("option", {}, "block"), el("option", {}, "allow"))),
    el("button", { type: "submit" }, "Add"));
  f.onsubmit = async (ev) => {
    ev.preventDefault();
    const d = new FormData(f);
    try {
      await api("PUT", "/settings/senders", { entry: d.get("entry"), action: d.get("action") });
      flash("Saved.");
      sendersView();
    } catch (e) { flash(e.message, true); }
  };
  const rows = page.items.sort((a, b) => a.entry.localeCompare(b.entry)).map((x) => el("tr", {},
    el("td", {}, x.entry), el("td", {}, x.action),
    el("td", {}, el("button", { class: "secondary", onclick: async () => {
      try {
        await api("DELETE", "/settings/senders?entry=" + encodeURIComponent(x.entry));
        flash("Removed.");
        sendersView();
      } catch (e) { flash(e.message, true); }
    } }, "Remove"))));
  view(el("h1", {}, "Senders"),
    el("p", {}, "Mail from a blocked sender is held or refused; an allowed sender's mail counts as wanted " +
      "when it passes DMARC. At most " + page.max + " entries."),
    f, el("table", { id: "sender-list" }, el("thead", {}, el("tr", {},
      ...["Sender", "Action", ""].map((h) => el("th", {}, h)))), el("tbody", {}, rows)),
    rows.length ? "" : el("p", {}, "No senders listed."));
}

async function statsView() {
  const s = await api("GET", "/admin/stats");
  const keys = Object.keys(s.totals).filter((k) => k !== "total").sort();
  view(el("h1", {}, "Last 24 hours"),
    el("div", { class: "card", id: "totals" }, el("strong", {}, String(s.totals.total || 0)), " messages; ",
      keys.map((k) => k + " " + s.totals[k]).join(", ")),
    el("div", { class: "card" }, el("h3", {}, "Top symbols"), el("table", {}, el("tbody", {},
      s.top_symbols.map((x) => el("tr", {}, el("td", {}, x.name), el("td", { class: "num" }, x.count)))))),
    el("div", { class: "card" }, el("h3", {}, "Top senders"), el("table", {}, el("tbody", {},
      s.top_senders.map((x) => el("tr", {}, el("td", {}, x.name), el("td", { class: "num" }, x.count)))))),
    el("div", { class: "card" }, el("h3", {}, "By hour"), el("table", {}, el("thead", {}, el("tr", {},
      el("th", {}, "Hour"), el("th", { class: "num" }, "Total"), el("th", {}, "Actions"))), el("tbody", {},
      s.buckets.filter((b) => b.total).map((b) => el("tr", {}, el("td", {}, fmtTime(b.start)),
        el("td", { class: "num" }, b.total), el("td", {}, Object.entries(b.actions).map(([k, v]) => k + " " + v).join(", "))))))));
}

async function auditView(cursor) {
  const q = new URLSearchParams({ limit: "100" });
  if (cursor) q.set("cursor", cursor);
  const page = await api("GET", "/admin/audit?" + q);
  const rows = page.items.map((e) => el("tr", {}, el("td", {}, fmtTime(Number(e.time))), el("td", {}, e.type || ""),
    el("td", {}, e.actor || ""), el("td", {}, e.op || e.action || ""), el("td", {}, e.target || e.id || "")));
  view(el("h1", {}, "Audit"),
    el("div", { class: "actions" }, el("button", { class: "secondary", onclick: async () => {
      const r = await api("GET", "/admin/audit?format=csv&limit=1000", undefined, { raw: true });
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: "ims-audit.csv" });
      document.body.append(a); a.click(); a.remove();
    } }, "Export CSV")),
    el("table", { id: "audit-list" }, el("thead", {}, el("tr", {}, ...["Time", "Type", "Actor", "Operation", "Target"]
      .map((h) => el("th", {}, h)))), el("tbody", {}, rows)),
    page.next_cursor ? el("div", { class: "pager" }, el("button", { class: "secondary",
      onclick: () => auditView(page.next_cursor) }, "Older")) : "");
}

async function usersView() {
  const page = await api("GET", "/admin/users?limit=1000");
  const f = el("form", { class: "filters", id: "user-form" },
    el("label", {}, "Address", el("input", { name: "address", required: true })),
    el("label", {}, "Password", el("input", { name: "password", type: "password", required: true })),
    el("label", {}, "Role", el("select", { name: "role" }, el("option", {}, "user"), el("option", {}, "admin"))),
    el("button", { type: "submit" }, "Create"));
  f.onsubmit = async (ev) => {
    ev.preventDefault();
    const d = new FormData(f);
    try {
      await api("POST", "/admin/users", { address: d.get("address"), password: d.get("password"), role: d.get("role") });
      flash("Created.");
      usersView();
    } catch (e) { flash(e.message, true); }
  };
  view(el("h1", {}, "Users"), f, el("table", { id: "user-list" }, el("thead", {}, el("tr", {},
    ...["Address", "Role", "Created", "State"].map((h) => el("th", {}, h)))), el("tbody", {},
    page.items.map((u) => el("tr", {}, el("td", {}, u.address), el("td", {}, u.role), el("td", {}, fmtTime(u.created)),
      el("td", {}, u.disabled ? "disabled" : "active"))))));
}

/* ---- routing ---- */

async function render() {
  const signedIn = !!state.access;
  $("#login-form").hidden = signedIn;
  $("#nav").hidden = !signedIn;
  $("#logout").hidden = !signedIn;
  $("#admin-nav").hidden = !(state.user && state.user.role === "admin");
  $("#who").textContent = state.user ? state.user.address + " (" + state.user.role + ")" : "";
  if (!signedIn) { view(); return; }
  const hash = location.hash.replace(/^#/, "") || "/inbox";
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  for (const a of document.querySelectorAll("[data-nav]"))
    a.classList.toggle("active", parts.includes(a.dataset.nav) || (parts[0] === a.dataset.nav));
  try {
    if (parts[0] === "sent") await folderView("Sent");
    else if (parts[0] === "folder") await folderView(decodeURIComponent(parts[1] || "INBOX"), null,
      new URLSearchParams(query || "").get("q"));
    else if (parts[0] === "message") await messageView(parts[1]);
    else if (parts[0] === "compose") composeView();
    else if (parts[0] === "held") await heldView();
    else if (parts[0] === "senders") await sendersView();
    else if (parts[0] === "admin" && parts[1] === "scans") await scansView(new URLSearchParams(query || ""));
    else if (parts[0] === "admin" && parts[1] === "scan") await scanView(parts[2]);
    else if (parts[0] === "admin" && parts[1] === "quarantine") await quarantineView();
    else if (parts[0] === "admin" && parts[1] === "stats") await statsView();
    else if (parts[0] === "admin" && parts[1] === "audit") await auditView();
    else if (parts[0] === "admin" && parts[1] === "users") await usersView();
    else await folderView("INBOX");
  } catch (e) {
    view(el("p", { class: "card error" }, "Error: " + e.message));
  }
}

$("#login-form").onsubmit = async (ev) => {
  ev.preventDefault();
  const d = new FormData(ev.target);
  try {
    await login(d.get("address"), d.get("password"));
    ev.target.reset();
    location.hash = "#/inbox";
    render();
  } catch (e) { flash(e.message, true); }
};
$("#logout").onclick = () => logout(false);
window.addEventListener("hashchange", render);
load();
render();
