// What ims holds back for the signed-in user (#/quarantine, GET
// /emails/quarantine), a preview of one (#/quarantine/ID), and release
// into the Inbox where the site lets users release ([quarantine]
// user_release); other held mail is released by an administrator.
import { useEffect, useState } from "preact/hooks";
import { api, qs } from "../api.js";
import { href, navigate } from "../router.js";
import { Icon } from "../ui/icons.jsx";
import { toast, toastError } from "../ui/toast.jsx";
import { displayName, shortDate, size } from "../format.js";
import { reloadFolders } from "./folders.js";
import { Body, Headers } from "./message.jsx";

function reason(h) {
  if (h.class === "dmarc") return "The sender's domain failed its DMARC check and asks receivers to hold such mail.";
  if (h.class === "rescan") return "A later check found it dangerous after delivery.";
  if (h.class === "score") return "It looked like spam or a threat (" + (h.reason || "high score") + ").";
  return h.reason || "Held by policy.";
}

async function release(h) {
  try {
    await api.post(`/emails/quarantine/${encodeURIComponent(h.id)}/release`);
    toast("Released into your Inbox");
    reloadFolders();
    return true;
  } catch (e) {
    toastError(e);
    return false;
  }
}

function Held({ id }) {
  const [h, setH] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api.get("/emails/quarantine/" + encodeURIComponent(id)).then(setH, (e) => setError(e.message));
  }, [id]);
  const back = href("quarantine");
  if (error)
    return (
      <section class="page">
        <a class="button" href={back}>
          <Icon name="back" /> Back
        </a>
        <p class="form-error">{error}</p>
      </section>
    );
  if (!h) return <p class="empty">Loading…</p>;
  return (
    <section class="page reader" id="held-message">
      <div class="toolbar">
        <a class="button" href={back}>
          <Icon name="back" /> Back
        </a>
        {h.can_release ? (
          <button type="button" class="primary" id="release" onClick={() => release(h).then((ok) => ok && navigate(back, true))}>
            Release to Inbox
          </button>
        ) : (
          <span class="muted">Only an administrator can release this message.</span>
        )}
      </div>
      <h1 id="subject">{h.subject || "(no subject)"}</h1>
      <p class="notice warn">
        <strong>Held, not delivered.</strong> {reason(h)} Links and attachments are not shown here.
      </p>
      {h.message ? (
        <>
          <Headers m={h.message} />
          <Body m={h.message} />
        </>
      ) : (
        <p class="muted">The message itself is no longer kept.</p>
      )}
    </section>
  );
}

export function Quarantine({ route }) {
  const id = route.parts[1];
  const stack = route.query.c ? route.query.c.split(",") : [];
  const [page, setPage] = useState(null);
  const [tick, setTick] = useState(0);
  const [error, setError] = useState("");
  useEffect(() => {
    if (id) return;
    api.get("/emails/quarantine" + qs({ cursor: stack[stack.length - 1], limit: 50 })).then(setPage, (e) => {
      setError(e.message);
      setPage({ items: [] });
    });
  }, [id, route.query.c, tick]);
  if (id) return <Held id={id} />;
  return (
    <section class="page">
      <h1>Held for you</h1>
      <p class="muted">
        Messages ims kept out of your mailbox because they looked dangerous or like spam. They are not delivered unless released.
      </p>
      {error && <p class="form-error">{error}</p>}
      {!page ? (
        <p class="empty">Loading…</p>
      ) : !page.items.length ? (
        <p class="empty">Nothing is held for you.</p>
      ) : (
        <ul class="cards" id="held-list">
          {page.items.map((h) => (
            <li key={h.id} class="card held">
              <div class="held-main">
                <a href={href("quarantine", h.id)} class="held-subject">
                  {h.subject || "(no subject)"}
                </a>
                <span class="muted">
                  {displayName(h.from)} · {shortDate(h.time)} · {size(h.size)}
                </span>
                <span class="held-reason">{reason(h)}</span>
              </div>
              {h.can_release ? (
                <button type="button" onClick={() => release(h).then(() => setTick(tick + 1))}>
                  Release
                </button>
              ) : (
                <span class="muted small">An administrator releases this one</span>
              )}
            </li>
          ))}
        </ul>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={!stack.length} onClick={() => navigate(href("quarantine", { c: stack.slice(0, -1).join(",") }))}>
          <Icon name="left" /> Newer
        </button>
        <button
          type="button"
          disabled={!page || !page.next_cursor}
          onClick={() => navigate(href("quarantine", { c: [...stack, page.next_cursor].join(",") }))}
        >
          Older <Icon name="right" />
        </button>
      </nav>
    </section>
  );
}
