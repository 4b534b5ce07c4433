// The dashboard: messages over time by outcome and by the classifier's
// opinion, authentication failure rates, clicks on rewritten links, the top
// lists and the quarantine, for 1 h / 24 h / 7 d / 30 d, refreshing live.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../api.js";
import { href, navigate } from "../router.js";
import { size } from "../format.js";
import { ChartBox } from "./chart.jsx";
import { outcomeLabel, opinionLabel, Status, useLoad } from "./common.jsx";
import { Page } from "./ui.jsx";

const RANGES = [
  ["1h", "1 hour"],
  ["24h", "24 hours"],
  ["7d", "7 days"],
  ["30d", "30 days"],
];
const REFRESH_MS = 30000;
const OUTCOMES = [
  ["accept", "ok"],
  ["tag", "warn"],
  ["quarantine", "accent"],
  ["reject", "danger"],
  ["tempfail", "muted"],
];

function bucketLabel(ms, bucket) {
  const d = new Date(ms);
  if (bucket >= 86400000) return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  if (bucket >= 6 * 3600000) return d.toLocaleDateString(undefined, { month: "short", day: "numeric" }) + " " + d.toLocaleTimeString(undefined, { hour: "2-digit" });
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

const pct = (fail, all) => (all ? (100 * fail) / all : null);
function failed(results, fails) {
  let all = 0,
    bad = 0;
  for (const [k, v] of Object.entries(results || {})) {
    if (k === "none") continue;
    all += v;
    if (fails.includes(k)) bad += v;
  }
  return pct(bad, all);
}

function rateText(r) {
  return r === null || r === undefined ? "no checked mail" : (r * 100).toFixed(1) + " %";
}

function TopList({ id, title, items, link, unit = "messages" }) {
  return (
    <section class="card top-list" aria-labelledby={id + "-h"}>
      <h2 id={id + "-h"}>{title}</h2>
      {items && items.length ? (
        <ol id={id}>
          {items.map((x) => (
            <li key={x.name}>
              {link ? <a href={link(x.name)}>{x.name}</a> : <span>{x.name}</span>}
              <span class="muted">
                {x.count} {unit}
              </span>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">Nothing in this range.</p>
      )}
    </section>
  );
}

export function Dashboard({ route }) {
  const range = RANGES.some((r) => r[0] === route.query.range) ? route.query.range : "24h";
  const [live, setLive] = useState(true);
  const [tick, setTick] = useState(0);
  const state = useLoad(() => api.get("/admin/dashboard?range=" + range), [range, tick]);
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearInterval(t);
  }, [live, range]);

  const d = state.data;
  const charts = useMemo(() => {
    if (!d) return null;
    const labels = d.buckets.map((b) => bucketLabel(b.start, d.bucket_ms));
    const by = (obj, k) => d.buckets.map((b) => (b[obj] && b[obj][k]) || 0);
    return {
      labels,
      outcome: OUTCOMES.filter(([a]) => d.totals.actions[a]).map(([a, t]) => ({ label: outcomeLabel(a), data: by("actions", a), tone: t })),
      opinion: [
        { label: "Classifier: " + opinionLabel("spam"), data: by("verdicts", "spam"), tone: "danger" },
        { label: "Classifier: " + opinionLabel("ham"), data: by("verdicts", "ham"), tone: "ok" },
      ],
      auth: [
        { label: "SPF failed", data: d.buckets.map((b) => failed(b.spf, ["fail", "softfail"])), tone: "warn" },
        { label: "DKIM failed", data: d.buckets.map((b) => failed(b.dkim, ["fail"])), tone: "accent" },
        { label: "DMARC failed", data: d.buckets.map((b) => failed(b.dmarc, ["fail"])), tone: "danger" },
      ],
      clicks: [
        { label: "Clean", data: by("clicks", "clean"), tone: "ok" },
        { label: "Warned", data: by("clicks", "warn"), tone: "warn" },
        { label: "Blocked", data: by("clicks", "block"), tone: "danger" },
        { label: "Went on after a warning", data: by("clicks", "continue"), tone: "muted" },
      ],
    };
  }, [d]);

  const t = d && d.totals;
  const clicks = t ? Object.values(t.clicks).reduce((a, b) => a + b, 0) : 0;
  return (
    <Page id="admin-dashboard" state={state}>
      <div class="page-head">
        <h1>Dashboard</h1>
        <div class="row">
          <div class="segmented" role="group" aria-label="Time range">
            {RANGES.map(([r, label]) => (
              <button type="button" key={r} aria-pressed={r === range} data-range={r} onClick={() => navigate(href("admin", "dashboard", { range: r }))}>
                {label}
              </button>
            ))}
          </div>
          <button type="button" id="live-toggle" aria-pressed={live} onClick={() => setLive(!live)} title={"Refresh every " + REFRESH_MS / 1000 + " s"}>
            {live ? "Live" : "Paused"}
          </button>
        </div>
      </div>
      <Status state={state} />
      {d && (
        <>
          <div class="tiles" id="dash-tiles">
            <a class="tile card" href={href("admin", "scans", { from: d.from })}>
              <span class="tile-value">{t.total}</span>
              <span class="tile-label">messages scanned</span>
            </a>
            <a class="tile card" href={href("admin", "scans", { action: "reject", from: d.from })}>
              <span class="tile-value">{t.actions.reject || 0}</span>
              <span class="tile-label">rejected</span>
            </a>
            <a class="tile card" href={href("admin", "quarantine")}>
              <span class="tile-value">{d.quarantine.messages}</span>
              <span class="tile-label">held in quarantine now ({size(d.quarantine.bytes)})</span>
            </a>
            <div class="tile card">
              <span class="tile-value">{clicks}</span>
              <span class="tile-label">clicks on rewritten links ({t.clicks.block || 0} blocked)</span>
            </div>
          </div>
          <div class="chart-grid">
            <section class="card">
              <h2>Messages by outcome</h2>
              <ChartBox id="chart-outcome" labels={charts.labels} series={charts.outcome} stacked summary={`Messages by outcome: ${OUTCOMES.map(([a]) => `${outcomeLabel(a)} ${t.actions[a] || 0}`).join(", ")}`} />
            </section>
            <section class="card">
              <h2>The classifier's opinion</h2>
              <ChartBox id="chart-opinion" labels={charts.labels} series={charts.opinion} stacked summary={`Classified spam ${t.verdicts.spam || 0}, not spam ${t.verdicts.ham || 0}`} />
            </section>
            <section class="card">
              <h2>Authentication failures</h2>
              <p class="muted small" id="auth-rates">
                SPF {rateText(d.auth_failure_rate.spf)} · DKIM {rateText(d.auth_failure_rate.dkim)} · DMARC {rateText(d.auth_failure_rate.dmarc)} of checked messages
              </p>
              <ChartBox id="chart-auth" type="line" percent labels={charts.labels} series={charts.auth} summary={`Failure rates: SPF ${rateText(d.auth_failure_rate.spf)}, DKIM ${rateText(d.auth_failure_rate.dkim)}, DMARC ${rateText(d.auth_failure_rate.dmarc)}`} />
            </section>
            <section class="card">
              <h2>Clicks on rewritten links</h2>
              <ChartBox id="chart-clicks" labels={charts.labels} series={charts.clicks} stacked summary={`Clicks: ${clicks}, blocked ${t.clicks.block || 0}, warned ${t.clicks.warn || 0}`} />
            </section>
          </div>
          <div class="top-grid">
            <TopList id="top-symbols" title="Top symbols" items={d.top_symbols} link={(n) => href("admin", "scans", { symbol: n })} />
            <TopList id="top-senders" title="Top senders" items={d.top_senders} link={(n) => href("admin", "scans", { sender: n })} />
            <TopList id="top-domains" title="Top sender domains" items={d.top_sender_domains} />
            <TopList id="top-targets" title="Most targeted users" items={d.top_targeted_users} unit="threats" link={(n) => href("admin", "users", n)} />
          </div>
          <p class="muted small">
            Top lists count whole {range === "7d" || range === "30d" ? "days" : "hours"} in the range. {live ? "Refreshing every 30 seconds." : "Live refresh paused."}
          </p>
        </>
      )}
    </Page>
  );
}
