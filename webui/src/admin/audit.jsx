// The audit trail: every scan, click and admin action, filtered by type and
// actor; rows link to the scan or the user they are about; CSV export.
import { api, qs, download } from "../api.js";
import { href, navigate } from "../router.js";
import { longDate, shortDate } from "../format.js";
import { toastError } from "../ui/toast.jsx";
import { ADDR_RE, FilterBox, outcomeLabel, Status, TableBox, ULID_RE, useLoad } from "./common.jsx";

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
    <section class="page console" id="admin-audit" aria-busy={state.loading ? "true" : "false"}>
      <div class="page-head">
        <h1>Audit</h1>
        <button type="button" id="audit-csv" onClick={() => download("/admin/audit" + qs({ type, actor, format: "csv", limit: 1000 }), "ims-audit.csv").catch(toastError)}>
          Export CSV
        </button>
      </div>
      <FilterBox active={!!(type || actor)}>
      <form class="filters card" id="audit-filters" onSubmit={submit} aria-label="Filter the audit trail">
        <label>
          Type
          <select name="type" value={type}>
            {TYPES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Actor
          <input name="actor" type="email" value={actor} placeholder="admin address" />
        </label>
        <div class="row filter-actions">
          <button type="submit" class="primary">
            Apply
          </button>
          <a class="button" href={href("admin", "audit")}>
            Clear
          </a>
        </div>
      </form>
      </FilterBox>
      <Status state={state} empty={state.data && !items.length ? "No event matches (this page)." : null} />
      {items.length > 0 && (
        <TableBox label="Audit events">
          <table class="data" id="audit-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Actor</th>
                <th scope="col">What</th>
                <th scope="col">About</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.stream_id} data-type={e.type}>
                  <td data-label="Time" title={longDate(Number(e.time) || Number(e.stream_id.split("-")[0]))}>
                    {shortDate(Number(e.time) || Number(e.stream_id.split("-")[0]))}
                  </td>
                  <td data-label="Type">{e.type}</td>
                  <td data-label="Actor">
                    <Subject v={e.actor || e.user} />
                  </td>
                  <td data-label="What">{what(e)}</td>
                  <td data-label="About">
                    <Subject v={e.target || e.id} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
      {state.data && (
        <div class="row pager">
          {cursor && (
            <button type="button" onClick={() => history.back()}>
              Newer
            </button>
          )}
          {state.data.next_cursor && (
            <a class="button" href={href("admin", "audit", { type, actor, cursor: state.data.next_cursor })}>
              Older
            </a>
          )}
        </div>
      )}
    </section>
  );
}
