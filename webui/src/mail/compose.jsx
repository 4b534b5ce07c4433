// Compose (#/compose), a reply (?reply=ID, ?all=ID) or a forward
// (?forward=ID), or a draft opened again (?draft=ID). To/Cc/Bcc take
// comma-separated addresses; attachments go as base64 in the JSON of
// POST /emails/send; "Save draft" keeps it in Drafts (POST /emails/drafts;
// "draft" names the one it replaces, dropped when saved again or sent).
// A draft opened again brings its attachments back (fetched from
// GET /emails/{id}/attachments/{n}), so saving or sending keeps them.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, request } from "../api.js";
import { href, navigate } from "../router.js";
import { session } from "../api.js";
import { Icon } from "../ui/icons.jsx";
import { toast, toastError } from "../ui/toast.jsx";
import { longDate, parseAddress, size, splitAddresses } from "../format.js";
import { reloadFolders } from "./folders.js";
import { mailChanged } from "./actions.js";

const MAX_ATTACH = 8 * 1024 * 1024; // under [webapi] max_body (10 MiB) once base64

function prefix(p, s) {
  s = s || "";
  return new RegExp("^" + p + ":", "i").test(s) ? s : `${p}: ${s}`;
}

function quote(m) {
  const lines = (m.text || "").replace(/\r\n/g, "\n").replace(/\s+$/, "").split("\n");
  return `\n\nOn ${longDate(m.date || m.received)}, ${m.from} wrote:\n` + lines.map((l) => "> " + l).join("\n");
}

function forwarded(m) {
  return (
    "\n\n---------- Forwarded message ----------\n" +
    `From: ${m.from}\nDate: ${longDate(m.date || m.received)}\nSubject: ${m.subject || ""}\nTo: ${m.to || ""}\n` +
    (m.cc ? `Cc: ${m.cc}\n` : "") +
    "\n" +
    (m.text || "")
  );
}

function b64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ""));
    r.onerror = () => reject(new Error("cannot read " + file.name));
    r.readAsDataURL(file);
  });
}

// A draft's attachments as Files, as if attached again; one that cannot be
// fetched (a forwarded message part) is left out with a notice.
function draftFiles(id, list) {
  const one = (a, i) =>
    request("GET", "/emails/" + encodeURIComponent(id) + "/attachments/" + i, undefined, { raw: true })
      .then((r) => r.blob())
      .then((b) => new File([b], a.filename || "attachment", { type: a.content_type || "application/octet-stream" }))
      .catch(() => {
        toast(`${a.filename || "An attachment"} could not be attached again`, { error: true });
        return null;
      });
  return Promise.all(list.map(one)).then((fs) => fs.filter(Boolean));
}

export function Compose({ route }) {
  const me = (session.get() && session.get().user.address) || "";
  const { reply, all, forward, draft } = route.query;
  const parentId = reply || all || forward || null;
  const [form, setForm] = useState({ to: "", cc: "", bcc: "", subject: "", text: "" });
  const [showCc, setShowCc] = useState(false);
  const [files, setFiles] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(!!(parentId || draft));
  const [draftId, setDraftId] = useState(draft || null);
  const textRef = useRef(null);
  const fileRef = useRef(null);

  useEffect(() => {
    const src = parentId || draft;
    if (!src) return;
    api
      .get("/emails/" + encodeURIComponent(src))
      .then((m) => {
        if (draft) {
          const bccH = (m.headers || []).find((h) => h.name.toLowerCase() === "bcc");
          const bcc = bccH ? bccH.value : "";
          setForm({ to: m.to || "", cc: m.cc || "", bcc, subject: m.subject || "", text: m.text || "" });
          if (m.cc || bcc) setShowCc(true);
          return draftFiles(src, m.attachments || []).then(setFiles);
        } else if (forward) {
          setForm({ to: "", cc: "", bcc: "", subject: prefix("Fwd", m.subject), text: forwarded(m) });
        } else {
          const replyTo = (m.headers || []).find((h) => h.name.toLowerCase() === "reply-to");
          const to = replyTo ? replyTo.value : m.from || "";
          let cc = "";
          if (all) {
            const mine = (a) => parseAddress(a).address.toLowerCase() === me;
            const others = [...splitAddresses(m.to), ...splitAddresses(m.cc)].filter((a) => !mine(a));
            cc = others.join(", ");
            if (cc) setShowCc(true);
          }
          setForm({ to, cc, bcc: "", subject: prefix("Re", m.subject), text: quote(m) });
        }
      })
      .then(() => {
        setLoading(false);
        setTimeout(() => textRef.current && textRef.current.setSelectionRange(0, 0), 0);
      })
      .catch((e) => {
        setError(e.message);
        setLoading(false);
      });
  }, [parentId, draft]);

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });

  function addFiles(e) {
    const list = [...e.currentTarget.files];
    e.currentTarget.value = "";
    const total = [...files, ...list].reduce((n, f) => n + f.size, 0);
    if (total > MAX_ATTACH) {
      toast(`Attachments may add up to ${size(MAX_ATTACH)}`, { error: true });
      return;
    }
    setFiles([...files, ...list]);
  }

  async function body() {
    const b = { subject: form.subject, text: form.text };
    for (const k of ["to", "cc", "bcc"]) if (form[k].trim()) b[k] = form[k].trim(); // the API refuses empty lists
    if (reply || all) b.in_reply_to = parentId;
    if (forward) b.forward_of = parentId;
    if (draftId) b.draft = draftId; // replaced (saved again) or dropped (sent)
    if (files.length)
      b.attachments = await Promise.all(
        files.map(async (f) => ({ filename: f.name, content_type: f.type || "application/octet-stream", data: await b64(f) })),
      );
    return b;
  }

  async function send(e) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await api.post("/emails/send", await body());
      toast(r.saved ? "Sent" : "Sent (the copy in Sent could not be saved)");
      reloadFolders();
      mailChanged.set(mailChanged.get() + 1);
      // back where writing started; a draft's own page is gone now
      if (draftId) navigate(href("mail", "Drafts"), true);
      else if (history.length > 1) history.back();
      else navigate(href("mail", "INBOX"), true);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  async function saveDraft() {
    setBusy(true);
    setError("");
    try {
      const r = await api.post("/emails/drafts", await body());
      setDraftId(r.id);
      navigate(href("compose", { draft: r.id }), true);
      toast("Draft saved");
      reloadFolders();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  function onKey(e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") send(e);
  }

  const title = forward ? "Forward" : reply ? "Reply" : all ? "Reply all" : draft ? "Draft" : "New message";
  if (loading) return <p class="empty">Loading…</p>;
  return (
    <section class="page compose">
      <h1>{title}</h1>
      <form id="compose" onSubmit={send} onKeyDown={onKey} class="card compose-form">
        <div class="field">
          <label for="c-to">To</label>
          <input id="c-to" name="to" type="text" inputMode="email" autocomplete="email" value={form.to} onInput={set("to")} required={!draft} multiple />
          {!showCc && (
            <button type="button" class="link" onClick={() => setShowCc(true)}>
              Cc/Bcc
            </button>
          )}
        </div>
        {showCc && (
          <>
            <div class="field">
              <label for="c-cc">Cc</label>
              <input id="c-cc" name="cc" type="text" value={form.cc} onInput={set("cc")} />
            </div>
            <div class="field">
              <label for="c-bcc">Bcc</label>
              <input id="c-bcc" name="bcc" type="text" value={form.bcc} onInput={set("bcc")} />
            </div>
          </>
        )}
        <div class="field">
          <label for="c-subject">Subject</label>
          <input id="c-subject" name="subject" type="text" value={form.subject} onInput={set("subject")} />
        </div>
        <label for="c-text" class="visually-hidden">
          Message
        </label>
        <textarea id="c-text" name="text" rows={14} value={form.text} onInput={set("text")} ref={textRef} />
        {files.length > 0 && (
          <ul class="att-list" aria-label="Attachments">
            {files.map((f, i) => (
              <li key={i}>
                <Icon name="clip" size={16} /> {f.name} <span class="muted">{size(f.size)}</span>
                <button type="button" class="icon-btn" aria-label={"Remove " + f.name} onClick={() => setFiles(files.filter((_, j) => j !== i))}>
                  <Icon name="x" />
                </button>
              </li>
            ))}
          </ul>
        )}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" class="primary" disabled={busy} id="send">
            <Icon name="send" /> Send
          </button>
          <button type="button" disabled={busy} onClick={saveDraft} id="save-draft">
            <Icon name="drafts" /> Save draft
          </button>
          <input type="file" multiple ref={fileRef} onChange={addFiles} class="visually-hidden" id="c-files" tabIndex={-1} aria-label="Attach files" />
          <button type="button" onClick={() => fileRef.current.click()} id="attach">
            <Icon name="clip" /> Attach
          </button>
          <div class="topbar-fill" />
          <button type="button" class="ghost" onClick={() => (history.length > 1 ? history.back() : navigate(href("mail", "INBOX")))}>
            Discard
          </button>
        </div>
      </form>
    </section>
  );
}
