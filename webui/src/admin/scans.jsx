// Scans: the filters (time range, client IP, sender, recipient, symbol,
// outcome, classifier's opinion) live in the URL, so Back and links work;
// the list pages on with the server's cursor. One scan: every symbol, the
// authentication results, timings, the client and envelope, and links to
// the sender's other scans.
import { useEffect, useState } from "preact/hooks";
import { api, qs } from "../api.js";
import { href, navigate } from "../router.js";
import { longDate, shortDate, OUTCOME } from "../format.js";
import { AuthResult, FilterBox, fromLocalInput, Opinion, OPINION, Outcome, spamProbability, Status, toLocalInput, useLoad } from "./common.jsx";
import { DataTable, DetailPage, FilterActions, HeaderTable, Page, Pager, SelectFilter } from "./ui.jsx";

const FILTERS = ["from", "to", "ip", "sender", "recipient", "symbol", "action", "verdict"];

let symbolList = null;
function useSymbols() {
  const [list, setList] = useState(symbolList || []);
  useEffect(() => {
    if (symbolList) return;
    api.get("/admin/symbols").then((r) => {
      symbolList = r.items;
      setList(r.items);
    }, () => {});
  }, []);
  return list;
}

function Filters({ query }) {
  const symbols = useSymbols();
  function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const q = {};
    for (const k of FILTERS) {
      let v = String(f.get(k) || "").trim();
      if (k === "from" || k === "to") v = fromLocalInput(v);
      if (v) q[k] = v;
    }
    navigate(href("admin", "scans", q));
  }
  return (
    <FilterBox active={FILTERS.some((k) => query[k])}>
    <form class="filters card" id="scan-filters" onSubmit={submit} aria-label="Filter scans">
      <label>
        From
        <input type="datetime-local" name="from" value={toLocalInput(query.from)} />
      </label>
      <label>
        To
        <input type="datetime-local" name="to" value={toLocalInput(query.to)} />
      </label>
      <label>
        Client IP
        <input name="ip" value={query.ip || ""} placeholder="192.0.2.7 or 2001:db8::1" inputMode="text" autoComplete="off" />
      </label>
      <label>
        Sender
        <input name="sender" type="email" value={query.sender || ""} placeholder="envelope sender" />
      </label>
      <label>
        Recipient
        <input name="recipient" type="email" value={query.recipient || ""} />
      </label>
      <label>
        Symbol
        <select name="symbol" value={query.symbol || ""}>
          <option value="">any symbol</option>
          {query.symbol && !symbols.some((s) => s.name === query.symbol) && <option value={query.symbol}>{query.symbol}</option>}
          {symbols.map((s) => (
            <option key={s.name} value={s.name} title={s.doc}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <SelectFilter label="Outcome" name="action" value={query.action || ""} any="any outcome" options={Object.entries(OUTCOME)} />
      <SelectFilter label="Classifier's opinion" name="verdict" value={query.verdict || ""} any="any opinion" options={Object.entries(OPINION)} />
      <FilterActions clear={href("admin", "scans")} />
    </form>
    </FilterBox>
  );
}

/** A list of scans (rows on wide screens, cards on phones). */
const SCAN_COLUMNS = [
  {
    label: "Time",
    cell: (s) => (
      <a href={href("admin", "scans", s.id)} title={longDate(s.time)}>
        {shortDate(s.time)}
      </a>
    ),
  },
  {
    label: "Sender",
    cell: (s) => (s.mail_from ? <a href={href("admin", "scans", { sender: s.mail_from })}>{s.mail_from}</a> : <span class="muted">(null sender)</span>),
  },
  { label: "Recipients", cell: (s) => (s.rcpt || []).join(", ") },
  { label: "Subject", cell: (s) => <a href={href("admin", "scans", s.id)}>{s.subject || "(no subject)"}</a> },
  { label: "Outcome", cell: (s) => <Outcome action={s.action} /> },
  { label: "Classifier's opinion", cell: (s) => <Opinion verdict={s.verdict} probability={s.probability} /> },
  { label: "Score", cell: (s) => (typeof s.score === "number" ? s.score.toFixed(1) : "") },
  { label: "Client", cell: (s) => (s.client && s.client.ip ? <a href={href("admin", "scans", { ip: s.client.ip })}>{s.client.ip}</a> : "") },
];

/** A list of scans (rows on wide screens, cards on phones). */
export function ScanTable({ items, label = "Scans" }) {
  return <DataTable class="data scans-table" label={label} columns={SCAN_COLUMNS} rows={items} rowProps={(s) => ({ key: s.id, "data-id": s.id })} />;
}

export function ScanList({ route }) {
  const query = route.query;
  const key = FILTERS.map((k) => query[k] || "").join("|") + "|" + (query.cursor || "");
  const state = useLoad(() => {
    const q = { limit: 50, cursor: query.cursor };
    for (const k of FILTERS) if (query[k]) q[k] = query[k];
    return api.get("/admin/scans" + qs(q));
  }, [key]);
  const d = state.data;
  return (
    <Page id="admin-scans" state={state}>
      <h1>Scans</h1>
      <Filters query={query} key={key} />
      <Status state={state} empty={d && !d.items.length ? "No scan matches these filters." : null} />
      {d && d.items.length > 0 && <ScanTable items={d.items} />}
      {d && (
        <Pager
          cursor={query.cursor}
          older={d.next_cursor && href("admin", "scans", { ...Object.fromEntries(FILTERS.filter((k) => query[k]).map((k) => [k, query[k]])), cursor: d.next_cursor })}
          olderId="scans-older"
        >
          <span class="muted small">{d.examined} scan logs read</span>
        </Pager>
      )}
    </Page>
  );
}

function Dl({ rows }) {
  return (
    <dl class="kv">
      {rows
        .filter((r) => r[1] !== undefined && r[1] !== null && r[1] !== "")
        .map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </>
        ))}
    </dl>
  );
}

const SYMBOL_COLUMNS = [
  { label: "Symbol", cell: (x) => <a href={href("admin", "scans", { symbol: x.name })}>{x.name}</a> },
  {
    label: "Weight",
    class: (x) => (x.weight > 0 ? "bad" : x.weight < 0 ? "good" : ""),
    cell: (x) => (
      <>
        {x.weight > 0 ? "+" : ""}
        {Number(x.weight).toFixed(2)}
      </>
    ),
  },
  { label: "Detail", cell: (x) => x.detail },
];

export function ScanDetail({ id }) {
  const state = useLoad(() => api.get("/admin/scans/" + encodeURIComponent(id)), [id]);
  const s = state.data;
  return (
    <DetailPage id="admin-scan" state={state} back={href("admin", "scans")} backLabel="Scans">
      {s && (
        <>
          <h1>{s.subject || "(no subject)"}</h1>
          <div class="row verdict-row">
            <span>Outcome:</span> <Outcome action={s.action} />
            <span>Classifier's opinion:</span> <Opinion verdict={s.verdict} />
            <span class="muted">
              {spamProbability(s.probability)} · score {typeof s.score === "number" ? s.score.toFixed(2) : "?"}
            </span>
          </div>
          {s.reason && <p class="muted">Why: {s.reason}</p>}
          <div class="detail-grid">
            <section class="card">
              <h2>Message</h2>
              <Dl
                rows={[
                  ["Scan id", <code>{s.id}</code>],
                  ["Time", longDate(s.time)],
                  ["Direction", s.direction],
                  ["Envelope sender", s.mail_from ? <a href={href("admin", "scans", { sender: s.mail_from })}>{s.mail_from} (other scans)</a> : "(null sender)"],
                  ["Recipients", (s.rcpt || []).map((r, i) => [i ? ", " : "", <a href={href("admin", "users", r)}>{r}</a>])],
                  ["From", s.from],
                  ["Size", s.size != null ? s.size + " bytes" : ""],
                  ["Queue id", s.queue_id],
                  ["Model", s.model_version],
                ]}
              />
            </section>
            <section class="card">
              <h2>Client</h2>
              <Dl
                rows={[
                  ["IP", s.client && s.client.ip ? <a href={href("admin", "scans", { ip: s.client.ip })}>{s.client.ip} (other scans)</a> : ""],
                  ["Name", s.client && s.client.name],
                  ["HELO", s.client && s.client.helo],
                  ["Authenticated as", s.client && s.client.auth],
                ]}
              />
            </section>
            <section class="card" id="scan-auth">
              <h2>Authentication</h2>
              {s.auth ? (
                <>
                  <div class="row">
                    <AuthResult name="SPF" result={s.auth.spf} />
                    {(s.auth.dkim || []).length ? s.auth.dkim.map((k) => <AuthResult name={"DKIM " + k.domain} result={k.result} />) : <AuthResult name="DKIM" result="none" />}
                    <AuthResult name="DMARC" result={s.auth.dmarc} />
                  </div>
                  <Dl
                    rows={[
                      ["From domain", s.auth.from_domain],
                      ["DMARC policy", s.auth.dmarc_policy],
                      ...(s.auth.dkim || []).map((k) => ["DKIM signature", `${k.domain} (selector ${k.selector}): ${k.result}`]),
                    ]}
                  />
                </>
              ) : (
                <p class="muted">No authentication results.</p>
              )}
            </section>
            <section class="card">
              <h2>Timings</h2>
              <Dl rows={Object.entries(s.timings_us || {}).map(([k, v]) => [k, (v / 1000).toFixed(2) + " ms"])} />
            </section>
          </div>
          <h2>Symbols ({(s.symbols || []).length})</h2>
          <DataTable id="scan-symbols" label="Symbols" columns={SYMBOL_COLUMNS} rows={s.symbols || []} rowProps={(x) => ({ key: x.name })} />
          {s.headers && s.headers.length > 0 && (
            <>
              <h2>Headers</h2>
              <HeaderTable id="scan-headers" headers={s.headers} />
            </>
          )}
          {s.action === "quarantine" && (
            <p>
              <a href={href("admin", "quarantine", s.id)}>Open the held message</a>
            </p>
          )}
        </>
      )}
    </DetailPage>
  );
}
