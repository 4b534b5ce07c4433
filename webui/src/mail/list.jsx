// A folder's messages (#/mail/FOLDER?q=…&c=…) and, beside it on wide
// screens or instead of it on narrow ones, the open message (#/mail/FOLDER/ID).
// Paging: c is the stack of cursors of the pages before this one, so
// "Newer" pops one and "Older" pushes next_cursor; every page is a history
// entry, so Back goes where it should. Keys: j/k move, Enter or o opens,
// x selects, s flags, # deletes, ! reports spam, u back to the list,
// / searches, c composes.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, qs } from "../api.js";
import { useSignal } from "../signal.js";
import { href, navigate } from "../router.js";
import { Icon } from "../ui/icons.jsx";
import { toast, toastError } from "../ui/toast.jsx";
import { displayName, shortDate, marker } from "../format.js";
import { folders, folderLabel } from "./folders.js";
import { setFlags, moveTo, report, deleteWithUndo, pendingDelete, mailChanged } from "./actions.js";
import { Reader } from "./reader.jsx";
import { MoveMenu } from "./move.jsx";

const PAGE = 50;

export function isTyping(e) {
  const t = e.target;
  return (
    e.ctrlKey ||
    e.metaKey ||
    e.altKey ||
    (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName) && t.type !== "checkbox"))
  );
}

export function Marker({ m }) {
  const k = marker(m);
  if (!k) return null;
  return <span class={"badge " + k}>{k === "spam" ? "spam" : "suspicious"}</span>;
}

export function MailPage({ route }) {
  const folder = route.parts[1] || "INBOX";
  const openId = route.parts[2] || null;
  const q = route.query.q || "";
  const stack = route.query.c ? route.query.c.split(",") : [];
  const cursor = stack.length ? stack[stack.length - 1] : "";
  const [loaded, setPage] = useState(null);
  const pageKey = folder + "\n" + cursor + "\n" + q;
  // each visit of a page counts; rows show only when fetched for this visit
  // (never another folder's, nor an earlier visit's of this one)
  const visitRef = useRef({ key: null, n: 0 });
  if (visitRef.current.key !== pageKey) visitRef.current = { key: pageKey, n: visitRef.current.n + 1 };
  const visit = visitRef.current.n;
  const page = loaded && loaded.visit === visit ? loaded : null;
  const [error, setError] = useState("");
  const [focus, setFocusState] = useState(0);
  const focusRef = useRef(0); // keys may come faster than renders
  const setFocus = (i) => {
    focusRef.current = i;
    setFocusState(i);
  };
  const [checked, setChecked] = useState(new Set());
  const [confirmEmpty, setConfirmEmpty] = useState(false);
  const changedTick = useSignal(mailChanged);
  const pending = useSignal(pendingDelete);
  const allFolders = useSignal(folders);
  const listRef = useRef(null);
  const searchRef = useRef(null);
  const f = (allFolders || []).find((x) => x.name === folder);
  const role = f ? f.role : null;
  const title = q ? `Search: ${q}` : folderLabel(f || { name: folder });

  useEffect(() => {
    let live = true;
    setError("");
    api
      .get("/emails" + qs({ folder, cursor, q, limit: PAGE }))
      .then((r) => live && setPage({ ...r, visit }))
      .catch((e) => live && (setError(e.message), setPage({ items: [], next_cursor: null, visit })));
    return () => {
      live = false;
    };
  }, [folder, cursor, q, changedTick]);

  useEffect(() => {
    setChecked(new Set());
    setFocus(0);
  }, [folder, cursor, q]);

  const items = useMemo(() => (page ? page.items.filter((m) => !pending.has(m.id)) : []), [page, pending]);
  const listQuery = { q, c: stack.join(",") };
  const openHref = (m) => href("mail", folder, m.id, listQuery);
  const backHref = href("mail", folder, listQuery);

  function older() {
    if (page && page.next_cursor) navigate(href("mail", folder, { q, c: [...stack, page.next_cursor].join(",") }));
  }
  function newer() {
    navigate(href("mail", folder, { q, c: stack.slice(0, -1).join(",") }));
  }
  const targets = () => (checked.size ? [...checked] : items[focusRef.current] ? [items[focusRef.current].id] : []);

  function onKey(e) {
    if (isTyping(e)) return;
    const k = e.key;
    if (openId) {
      if (k === "u" || k === "Escape") {
        e.preventDefault();
        navigate(backHref);
      }
      return;
    }
    const focus = focusRef.current;
    const m = items[focus];
    if (k === "j" || k === "ArrowDown") {
      e.preventDefault();
      moveFocus(Math.min(focus + 1, items.length - 1));
    } else if (k === "k" || k === "ArrowUp") {
      e.preventDefault();
      moveFocus(Math.max(focus - 1, 0));
    } else if ((k === "Enter" || k === "o") && m) {
      e.preventDefault();
      navigate(openHref(m));
    } else if (k === "x" && m) {
      e.preventDefault();
      toggle(m.id);
    } else if (k === "s" && m) {
      setFlags([m.id], { flagged: !m.flagged }, true);
    } else if ((k === "#" || k === "Delete") && targets().length) {
      deleteWithUndo(targets(), role === "trash");
      setChecked(new Set());
    } else if (k === "!" && targets().length && role !== "junk") {
      report(targets(), "spam");
      setChecked(new Set());
    } else if (k === "/") {
      e.preventDefault();
      searchRef.current && searchRef.current.focus();
    } else if (k === "c") {
      navigate(href("compose"));
    } else if (k === "n" || k === "]") older();
    else if ((k === "p" || k === "[") && stack.length) newer();
  }
  useEffect(() => {
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  });
  /* moves the selection, and the keyboard focus with it when it is in the
   * list, at once (a deferred effect could land after the next key) */
  function moveFocus(i) {
    setFocus(i);
    const row = listRef.current && listRef.current.querySelector(`[data-index="${i}"] a.open`);
    if (!row) return;
    const a = document.activeElement;
    if (a && a.closest && a.closest("#mail-list")) row.focus();
    else row.scrollIntoView({ block: "nearest" });
  }

  function toggle(id) {
    const s = new Set(checked);
    s.has(id) ? s.delete(id) : s.add(id);
    setChecked(s);
  }
  const allChecked = items.length > 0 && items.every((m) => checked.has(m.id));

  function search(e) {
    e.preventDefault();
    const v = new FormData(e.currentTarget).get("q");
    navigate(href("mail", folder, { q: String(v || "").trim() }));
  }

  const sel = [...checked];
  const bulk = sel.length > 0 && (
    <div class="bulkbar" role="toolbar" aria-label="Selected messages">
      <span>{sel.length} selected</span>
      <button type="button" onClick={() => setFlags(sel, { seen: true })}>Mark read</button>
      <button type="button" onClick={() => setFlags(sel, { seen: false })}>Mark unread</button>
      <button type="button" onClick={() => setFlags(sel, { flagged: true })}>Flag</button>
      <MoveMenu current={folder} onMove={(to) => moveTo(sel, to).then(() => setChecked(new Set()))} />
      {role === "junk" ? (
        <button type="button" onClick={() => report(sel, "ham").then(() => setChecked(new Set()))}>Not spam</button>
      ) : (
        <button type="button" onClick={() => report(sel, "spam").then(() => setChecked(new Set()))}>Report spam</button>
      )}
      <button type="button" class="danger" onClick={() => (deleteWithUndo(sel, role === "trash"), setChecked(new Set()))}>
        Delete
      </button>
    </div>
  );

  return (
    <div class={"mail" + (openId ? " has-reader" : "")}>
      <section class="list-pane" aria-label={title}>
        <div class="list-head">
          <h1 id="folder-title">{title}</h1>
          <form class="search" id="search" role="search" onSubmit={search}>
            <label class="visually-hidden" for="q">
              Search {folderLabel(f || { name: folder })}
            </label>
            <input id="q" name="q" type="search" placeholder="Search sender, subject, text" key={folder + "|" + q} defaultValue={q} ref={searchRef} />
            <button type="submit" class="icon-btn" aria-label="Search">
              <Icon name="search" />
            </button>
          </form>
        </div>
        <div class="list-tools">
          <label class="check-all">
            <input
              type="checkbox"
              checked={allChecked}
              aria-label="Select all on this page"
              onChange={() => setChecked(allChecked ? new Set() : new Set(items.map((m) => m.id)))}
            />
          </label>
          {role === "trash" && items.length > 0 &&
            (confirmEmpty ? (
              <span class="row" role="group" aria-label="Empty Trash">
                <span>Delete everything in Trash for good?</span>
                <button
                  type="button"
                  class="danger"
                  id="empty-trash-yes"
                  onClick={() => {
                    setConfirmEmpty(false);
                    api.post("/emails/trash/empty").then(() => (toast("Trash emptied"), mailChanged.set(mailChanged.get() + 1)), toastError);
                  }}
                >
                  Empty
                </button>
                <button type="button" onClick={() => setConfirmEmpty(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button type="button" id="empty-trash" onClick={() => setConfirmEmpty(true)}>
                Empty Trash
              </button>
            ))}
          <div class="topbar-fill" />
          <nav class="pager" aria-label="Pages">
            <button type="button" onClick={newer} disabled={!stack.length} id="newer">
              <Icon name="left" /> Newer
            </button>
            <button type="button" onClick={older} disabled={!page || !page.next_cursor} id="older">
              Older <Icon name="right" />
            </button>
          </nav>
        </div>
        {bulk}
        {error && <p class="form-error">{error}</p>}
        {!page ? (
          <p class="empty">Loading…</p>
        ) : !items.length ? (
          <p class="empty">{q ? "Nothing found." : "No messages here."}</p>
        ) : (
          <ul class="msglist" id="mail-list" ref={listRef}>
            {items.map((m, i) => (
              <li
                key={m.id}
                data-index={i}
                data-id={m.id}
                class={"msg" + (m.seen ? "" : " unread") + (i === focus ? " focused" : "") + (m.id === openId ? " open-now" : "") + (checked.has(m.id) ? " checked" : "")}
              >
                <input type="checkbox" checked={checked.has(m.id)} onChange={() => toggle(m.id)} aria-label={"Select: " + (m.subject || "(no subject)")} />
                <button
                  type="button"
                  class={"icon-btn star" + (m.flagged ? " on" : "")}
                  aria-pressed={m.flagged ? "true" : "false"}
                  aria-label="Flag"
                  onClick={() => setFlags([m.id], { flagged: !m.flagged }, true)}
                >
                  <Icon name="star" />
                </button>
                <a class="open" href={openHref(m)} onFocus={() => setFocus(i)}>
                  <span class="from">
                    {!m.seen && <span class="visually-hidden">Unread. </span>}
                    {role === "sent" || role === "drafts" ? "To: " + displayName(m.to) : displayName(m.from)}
                  </span>
                  <span class="subject-line">
                    <span class="subject">{m.subject || "(no subject)"}</span>
                    {m.snippet && <span class="snippet"> — {m.snippet}</span>}
                  </span>
                  <span class="meta">
                    <Marker m={m} />
                    {m.attachment && (
                      <span title="Has attachments">
                        <Icon name="clip" size={16} />
                        <span class="visually-hidden">Has attachments</span>
                      </span>
                    )}
                    <time dateTime={new Date(m.received).toISOString()}>{shortDate(m.received)}</time>
                  </span>
                </a>
              </li>
            ))}
          </ul>
        )}
        <p class="keys muted">Keys: j/k move · Enter open · x select · s flag · # delete · ! spam · / search · c compose · ? all keys</p>
      </section>
      {openId && (
        <section class="reader-pane" aria-label="Message">
          <Reader id={openId} folder={folder} role={role} backHref={backHref} />
        </section>
      )}
    </div>
  );
}
