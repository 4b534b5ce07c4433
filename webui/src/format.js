// Formatting shared by the views: dates, sizes, addresses, outcome labels.

export function shortDate(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  const now = new Date();
  if (d.toDateString() === now.toDateString())
    return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (d.getFullYear() === now.getFullYear())
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function longDate(v) {
  if (!v) return "";
  const d = typeof v === "number" ? new Date(v) : new Date(v);
  return isNaN(d) ? String(v) : d.toLocaleString();
}

export function size(n) {
  if (n == null) return "";
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + " KB";
  return (n / 1048576).toFixed(1) + " MB";
}

/** "Bob <bob@x>" -> {name: "Bob", address: "bob@x"} */
export function parseAddress(s) {
  if (!s) return { name: "", address: "" };
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(s);
  if (m) return { name: m[1].trim(), address: m[2].trim() };
  return { name: "", address: s.trim() };
}

export function displayName(s) {
  const a = parseAddress(s);
  return a.name || a.address || "(no sender)";
}

/** Splits a header list of addresses at commas outside quotes and <>. */
export function splitAddresses(s) {
  const out = [];
  let cur = "",
    q = false,
    angle = false;
  for (const c of s || "") {
    if (c === '"') q = !q;
    else if (c === "<" && !q) angle = true;
    else if (c === ">" && !q) angle = false;
    if (c === "," && !q && !angle) {
      if (cur.trim()) out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** What happened to the message (the outcome), in plain words. */
export const OUTCOME = {
  accept: "delivered",
  tag: "tagged as spam",
  quarantine: "quarantined",
  reject: "rejected",
  tempfail: "deferred",
};

/** The marker a list row shows: null, "suspicious" or "spam". */
export function marker(m) {
  if (!m) return null;
  if (m.action === "tag" || m.action === "quarantine" || m.action === "reject") return "spam";
  if (m.verdict === "spam") return "suspicious";
  return null;
}
