// The audit trail: every scan, click and admin action, filtered by type and
// actor; rows link to the scan or the user they are about; CSV export.
import { api, qs, download } from "../api.js";
import { href, navigate } from "../router.js";
import { longDate, shortDate } from "../format.js";
import { toastError } from "../ui/toast.jsx";
import { ADDR_RE, FilterBox, outcomeLabel, Status, ULID_RE, useLoad } from "./common.jsx";
import { DataTable, FilterActions, Page, Pager, SelectFilter } from "./ui.jsx";

const TYPES = [
  ["", "everything"],
  ["admin", "admin actions"],
  ["scan", "scans"],
  ["click", "clicks"],
];

/** A link for what an event is about: a scan id or an address. */
function Subject({ v }) {
  if (!v) return null;
  if (ULID_RE.test(v)) return <a href={href("admin", "scans", v)}>{v}</a>;
  if (ADDR_RE.test(v)) return <a href={href("admin", "users", v)}>{v}</a>;
  return <span>{v}</span>;
}

function what(e) {
  if (e.type === "scan") return `scanned: ${outcomeLabel(e.action)}${e.mail_from ? " from " + e.mail_from : ""}`;
  if (e.type === "click") return `clicked ${e.url || ""}: ${e.verdict || ""}`;
  const extra = Object.entries(e)
    .filter(([k]) => !["stream_id", "type", "actor", "op", "target", "time", "request_id", "id"].includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return (e.op || "") + (extra ? " (" + extra + ")" : "");
}

const eventTime = (e) => Number(e.time) || Number(e.stream_id.split("-")[0]);

const AUDIT_COLUMNS = [
  { label: "Time", title: (e) => longDate(eventTime(e)), cell: (e) => shortDate(eventTime(e)) },
  { label: "Type", cell: (e) => e.type },
  { label: "Actor", cell: (e) => <Subject v={e.actor || e.user} /> },
  { label: "What", cell: what },
  { label: "About", cell: (e) => <Subject v={e.target || e.id} /> },
];

export function Audit({ route }) {
  const { type = "", actor = "", cursor } = route.query;
  const state = useLoad(() => api.get("/admin/audit" + qs({ type, actor, cursor, limit: 50 })), [type, actor, cursor]);
  function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    navigate(href("admin", "audit", { type: f.get("type"), actor: String(f.get("actor") || "").trim() }));
  }
  const items = (state.data && state.data.items) || [];
  return (
    <Page id="admin-audit" state={state}>
      <div class="page-head">
        <h1>Audit</h1>
        <button type="button" id="audit-csv" onClick={() => download("/admin/audit" + qs({ type, actor, format: "csv", limit: 1000 }), "ims-audit.csv").catch(toastError)}>
          Export CSV
        </button>
      </div>
      <FilterBox active={!!(type || actor)}>
      <form class="filters card" id="audit-filters" onSubmit={submit} aria-label="Filter the audit trail">
        <SelectFilter label="Type" name="type" value={type} options={TYPES} />
        <label>
          Actor
          <input name="actor" type="email" value={actor} placeholder="admin address" />
        </label>
        <FilterActions clear={href("admin", "audit")} />
      </form>
      </FilterBox>
      <Status state={state} empty={state.data && !items.length ? "No event matches (this page)." : null} />
      {items.length > 0 && (
        <DataTable id="audit-table" label="Audit events" columns={AUDIT_COLUMNS} rows={items} rowProps={(e) => ({ key: e.stream_id, "data-type": e.type })} />
      )}
      {state.data && (
        <Pager cursor={cursor} older={state.data.next_cursor && href("admin", "audit", { type, actor, cursor: state.data.next_cursor })} />
      )}
    </Page>
  );
}
