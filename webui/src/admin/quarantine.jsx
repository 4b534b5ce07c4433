// The quarantine: every held message, a preview, release, release and
// report as not spam, delete, and the same for a selection at once.
import { useState } from "preact/hooks";
import { api, qs } from "../api.js";
import { href, navigate } from "../router.js";
import { longDate, shortDate, size } from "../format.js";
import { toast, toastError } from "../ui/toast.jsx";
import { Status, TableBox, useLoad } from "./common.jsx";
import { Body } from "../mail/message.jsx";

async function act(kind, id) {
  if (kind === "delete") return api.del("/admin/quarantine/" + encodeURIComponent(id));
  return api.post("/admin/quarantine/" + encodeURIComponent(id) + "/release", kind === "notspam" ? { not_spam: true } : {});
}

const DONE = { release: "released", notspam: "released and reported as not spam", delete: "deleted" };

async function runAll(kind, ids, after) {
  if (kind === "delete" && !confirm(`Delete ${ids.length} held message${ids.length > 1 ? "s" : ""} for good?`)) return;
  let ok = 0;
  const errors = [];
  for (const id of ids) {
    try {
      await act(kind, id);
      ok++;
    } catch (e) {
      errors.push(e.message);
    }
  }
  if (ok) toast(`${ok} message${ok > 1 ? "s" : ""} ${DONE[kind]}`);
  if (errors.length) toastError(new Error(`${errors.length} failed: ${errors[0]}`));
  after();
}

function Actions({ ids, after, compact }) {
  const [busy, setBusy] = useState(false);
  const n = ids.length;
  const go = (kind) => async () => {
    setBusy(true);
    try {
      await runAll(kind, ids, after);
    } finally {
      setBusy(false);
    }
  };
  const suffix = compact ? "" : n > 1 ? ` (${n})` : "";
  return (
    <div class="row actions">
      <button type="button" class="primary" disabled={!n || busy} onClick={go("release")} data-act="release">
        Release{suffix}
      </button>
      <button type="button" disabled={!n || busy} onClick={go("notspam")} data-act="notspam">
        Release and report not spam{suffix}
      </button>
      <button type="button" class="danger" disabled={!n || busy} onClick={go("delete")} data-act="delete">
        Delete{suffix}
      </button>
    </div>
  );
}

function Recipients({ m }) {
  return (m.recipients || []).map((r, i) => (
    <span key={r.address}>
      {i ? ", " : ""}
      <a href={href("admin", "users", r.address)}>{r.address}</a>
      {r.released ? <span class="muted"> (released)</span> : null}
    </span>
  ));
}

export function QuarantineList({ route }) {
  const cursor = route.query.cursor;
  const [sel, setSel] = useState(new Set());
  const state = useLoad(() => api.get("/admin/quarantine" + qs({ limit: 50, cursor })), [cursor]);
  const items = (state.data && state.data.items) || [];
  const toggle = (id) => {
    const s = new Set(sel);
    s.has(id) ? s.delete(id) : s.add(id);
    setSel(s);
  };
  const all = items.length > 0 && items.every((m) => sel.has(m.id));
  const after = () => {
    setSel(new Set());
    state.reload();
  };
  return (
    <section class="page console" id="admin-quarantine" aria-busy={state.loading ? "true" : "false"}>
      <h1>Quarantine</h1>
      <p class="muted">Messages held instead of delivered. Release delivers a message to the recipients' inboxes.</p>
      <Status state={state} empty={state.data && !items.length ? "Nothing is held." : null} />
      {items.length > 0 && (
        <>
          <div class="bulk-bar card">
            <label class="row">
              <input type="checkbox" id="q-select-all" checked={all} onChange={() => setSel(all ? new Set() : new Set(items.map((m) => m.id)))} />
              {sel.size ? `${sel.size} selected` : "Select all"}
            </label>
            <Actions ids={[...sel]} after={after} />
          </div>
          <TableBox label="Held messages">
            <table class="data" id="quarantine-table">
              <thead>
                <tr>
                  <th scope="col">
                    <span class="visually-hidden">Select</span>
                  </th>
                  <th scope="col">Held</th>
                  <th scope="col">From</th>
                  <th scope="col">Subject</th>
                  <th scope="col">For</th>
                  <th scope="col">Why</th>
                  <th scope="col">Size</th>
                </tr>
              </thead>
              <tbody>
                {items.map((m) => (
                  <tr key={m.id} data-id={m.id}>
                    <td data-label="Select">
                      <input type="checkbox" checked={sel.has(m.id)} onChange={() => toggle(m.id)} aria-label={"Select " + (m.subject || m.id)} />
                    </td>
                    <td data-label="Held" title={longDate(m.time)}>
                      {shortDate(m.time)}
                    </td>
                    <td data-label="From">{m.from || m.mail_from}</td>
                    <td data-label="Subject">
                      <a href={href("admin", "quarantine", m.id)}>{m.subject || "(no subject)"}</a>
                    </td>
                    <td data-label="For">
                      <Recipients m={m} />
                    </td>
                    <td data-label="Why">
                      {m.reason}
                      {m.class === "dmarc" ? " (the sender's DMARC policy)" : ""}
                    </td>
                    <td data-label="Size">{size(m.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
          <div class="row pager">
            {cursor && (
              <button type="button" onClick={() => history.back()}>
                Newer
              </button>
            )}
            {state.data.next_cursor && (
              <a class="button" href={href("admin", "quarantine", { cursor: state.data.next_cursor })}>
                Older
              </a>
            )}
          </div>
        </>
      )}
    </section>
  );
}

export function QuarantineDetail({ id }) {
  const state = useLoad(() => api.get("/admin/quarantine/" + encodeURIComponent(id)), [id]);
  const m = state.data;
  const msg = m && m.message;
  return (
    <section class="page console" id="admin-quarantine-detail" aria-busy={state.loading ? "true" : "false"}>
      <p>
        <a href={href("admin", "quarantine")}>← Quarantine</a>
      </p>
      <Status state={state} />
      {m && (
        <>
          <h1>{m.subject || "(no subject)"}</h1>
          <p class="muted">
            Held {longDate(m.time)} for <Recipients m={m} />. Why: {m.reason}. Score {m.score}. <a href={href("admin", "scans", m.id)}>The scan</a>
          </p>
          {!m.released_by && <Actions ids={[m.id]} compact after={() => navigate(href("admin", "quarantine"))} />}
          {m.released_by && <p>Released by {m.released_by}.</p>}
          {msg ? (
            <>
              <h2>Headers</h2>
              <TableBox label="Headers">
                <table class="data" id="preview-headers">
                  <tbody>
                    {(msg.headers || []).map((h, i) => (
                      <tr key={i}>
                        <th scope="row">{h.name}</th>
                        <td>{h.value}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableBox>
              <h2>Content</h2>
              <div id="preview-body">
                <Body m={msg} />
              </div>
              {msg.attachments && msg.attachments.length > 0 && (
                <>
                  <h2>Attachments</h2>
                  <ul>
                    {msg.attachments.map((a) => (
                      <li key={a.filename}>
                        {a.filename || "(unnamed)"} <span class="muted">{a.content_type}, {size(a.size)}</span>
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </>
          ) : (
            <p class="muted">The body is gone (released to everyone).</p>
          )}
        </>
      )}
    </section>
  );
}
