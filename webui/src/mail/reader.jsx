// One open message: headers, body, attachments, the "why" panel, actions.
import { useEffect, useState } from "preact/hooks";
import { api, download } from "../api.js";
import { href, navigate } from "../router.js";
import { Icon } from "../ui/icons.jsx";
import { toastError } from "../ui/toast.jsx";
import { parseAddress } from "../format.js";
import { reloadFolders } from "./folders.js";
import { setFlags, moveTo, report, deleteWithUndo, blockSender, mailChanged } from "./actions.js";
import { MoveMenu } from "./move.jsx";
import { Body, Headers, Attachments } from "./message.jsx";
import { Why } from "./why.jsx";
import { Marker, isTyping } from "./list.jsx";

export function Reader({ id, folder, role, backHref }) {
  const [m, setM] = useState(null);
  const [error, setError] = useState("");
  const [flagged, setFlagged] = useState(false);
  const base = "/emails/" + encodeURIComponent(id);

  useEffect(() => {
    let live = true;
    setM(null);
    setError("");
    api
      .get(base)
      .then((r) => {
        if (!live) return;
        setM(r);
        setFlagged((r.flags || []).includes("\\Flagged"));
        reloadFolders();
        mailChanged.set(mailChanged.get() + 1);
      })
      .catch((e) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [id]);

  const gone = () => navigate(backHref, true);
  const reply = (mode) => navigate(href("compose", { [mode]: id }));

  useEffect(() => {
    function onKey(e) {
      if (isTyping(e) || !m) return;
      if (e.key === "r") reply("reply");
      else if (e.key === "a") reply("all");
      else if (e.key === "f") reply("forward");
      else if (e.key === "#" || e.key === "Delete") (deleteWithUndo([id], role === "trash"), gone());
      else if (e.key === "s") toggleFlag();
      else if (e.key === "U") setFlags([id], { seen: false }).then(gone);
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  });

  function toggleFlag() {
    setFlags([id], { flagged: !flagged }, true);
    setFlagged(!flagged);
  }

  if (error)
    return (
      <div class="reader">
        <a class="button" href={backHref}>
          <Icon name="back" /> Back
        </a>
        <p class="form-error">{error}</p>
      </div>
    );
  if (!m) return <p class="empty">Loading…</p>;
  const sender = parseAddress(m.from).address;
  return (
    <article class="reader" id="message" aria-labelledby="subject">
      <div class="toolbar" role="toolbar" aria-label="Message actions">
        <a class="button" href={backHref} id="back" aria-label="Back to the list">
          <Icon name="back" /> <span class="wide-only">Back</span>
        </a>
        {role === "drafts" && (
          <a class="button primary" href={href("compose", { draft: id })} id="edit-draft">
            <Icon name="drafts" /> Edit
          </a>
        )}
        <button type="button" onClick={() => reply("reply")} id="reply">
          <Icon name="reply" /> Reply
        </button>
        <button type="button" onClick={() => reply("all")} id="reply-all">
          <Icon name="replyAll" /> <span class="wide-only">Reply all</span>
          <span class="visually-hidden narrow-only">Reply all</span>
        </button>
        <button type="button" onClick={() => reply("forward")} id="forward">
          <Icon name="forward" /> <span class="wide-only">Forward</span>
          <span class="visually-hidden narrow-only">Forward</span>
        </button>
        <button type="button" id="flag" aria-pressed={flagged ? "true" : "false"} class={"star" + (flagged ? " on" : "")} onClick={toggleFlag}>
          <Icon name="star" /> {flagged ? "Flagged" : "Flag"}
        </button>
        <button type="button" id="unread" onClick={() => setFlags([id], { seen: false }).then(gone)}>
          <Icon name="unread" /> Unread
        </button>
        <MoveMenu current={folder} onMove={(to) => moveTo([id], to).then((ok) => ok && gone())} />
        {role === "junk" ? (
          <button type="button" id="not-spam" onClick={() => report([id], "ham").then((ok) => ok && gone())}>
            Not spam
          </button>
        ) : (
          <button type="button" id="report-spam" onClick={() => report([id], "spam").then((ok) => ok && gone())}>
            <Icon name="junk" /> Report spam
          </button>
        )}
        <button type="button" class="danger" id="delete" onClick={() => (deleteWithUndo([id], role === "trash"), gone())}>
          <Icon name="trash" /> Delete
        </button>
      </div>
      <header class="msg-head">
        <h1 id="subject">{m.subject || "(no subject)"}</h1>
        <Marker m={m.scan} />
      </header>
      <Headers m={m} />
      <div class="row sender-actions">
        {sender && (
          <>
            <button type="button" class="link" onClick={() => blockSender(sender, "block")}>
              Block {sender}
            </button>
            <button type="button" class="link" onClick={() => blockSender(sender, "allow")}>
              Always allow
            </button>
          </>
        )}
        <button type="button" class="link" onClick={() => download(base + "/raw", "message.eml").catch(toastError)}>
          Download original
        </button>
      </div>
      <div class="reader-grid">
        <div class="reader-main">
          <Body m={m} base={base} />
          <Attachments m={m} base={base} />
        </div>
        <Why scan={m.scan} />
      </div>
    </article>
  );
}
