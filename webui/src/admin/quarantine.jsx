// The quarantine: every held message, a preview, release, release and
// report as not spam, delete, and the same for a selection at once.
import { useState } from "preact/hooks";
import { api, qs } from "../api.js";
import { href, navigate } from "../router.js";
import { longDate, shortDate, size } from "../format.js";
import { toast, toastError } from "../ui/toast.jsx";
import { Status, useLoad } from "./common.jsx";
import { DataTable, DetailPage, HeaderTable, Page, Pager, useSelection } from "./ui.jsx";
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

const HELD_COLUMNS = (sel) => [
  {
    label: "Select",
    hidden: true,
    cell: (m) => <input type="checkbox" checked={sel.sel.has(m.id)} onChange={() => sel.toggle(m.id)} aria-label={"Select " + (m.subject || m.id)} />,
  },
  { label: "Held", title: (m) => longDate(m.time), cell: (m) => shortDate(m.time) },
  { label: "From", cell: (m) => m.from || m.mail_from },
  { label: "Subject", cell: (m) => <a href={href("admin", "quarantine", m.id)}>{m.subject || "(no subject)"}</a> },
  { label: "For", cell: (m) => <Recipients m={m} /> },
  {
    label: "Why",
    cell: (m) => (
      <>
        {m.reason}
        {m.class === "dmarc" ? " (the sender's DMARC policy)" : ""}
      </>
    ),
  },
  { label: "Size", cell: (m) => size(m.size) },
];

export function QuarantineList({ route }) {
  const cursor = route.query.cursor;
  const state = useLoad(() => api.get("/admin/quarantine" + qs({ limit: 50, cursor })), [cursor]);
  const items = (state.data && state.data.items) || [];
  const sel = useSelection(items);
  const after = () => {
    sel.clear();
    state.reload();
  };
  return (
    <Page id="admin-quarantine" state={state}>
      <h1>Quarantine</h1>
      <p class="muted">Messages held instead of delivered. Release delivers a message to the recipients' inboxes.</p>
      <Status state={state} empty={state.data && !items.length ? "Nothing is held." : null} />
      {items.length > 0 && (
        <>
          <div class="bulk-bar card">
            <label class="row">
              <input type="checkbox" id="q-select-all" checked={sel.all} onChange={sel.toggleAll} />
              {sel.sel.size ? `${sel.sel.size} selected` : "Select all"}
            </label>
            <Actions ids={[...sel.sel]} after={after} />
          </div>
          <DataTable id="quarantine-table" label="Held messages" columns={HELD_COLUMNS(sel)} rows={items} rowProps={(m) => ({ key: m.id, "data-id": m.id })} />
          <Pager cursor={cursor} older={state.data.next_cursor && href("admin", "quarantine", { cursor: state.data.next_cursor })} />
        </>
      )}
    </Page>
  );
}

export function QuarantineDetail({ id }) {
  const state = useLoad(() => api.get("/admin/quarantine/" + encodeURIComponent(id)), [id]);
  const m = state.data;
  const msg = m && m.message;
  return (
    <DetailPage id="admin-quarantine-detail" state={state} back={href("admin", "quarantine")} backLabel="Quarantine">
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
              <HeaderTable id="preview-headers" headers={msg.headers || []} />
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
    </DetailPage>
  );
}
