// A message's headers and body, shared by the reader and the previews of
// held messages. The HTML part (sanitised by the server: no scripts,
// styles, forms, frames or images) goes into an iframe with a sandbox that
// allows no scripts; it inherits the UI's Content-Security-Policy (img-src
// 'self' data:), so nothing remote loads even if something slipped through.
// "Show remote images" (the reader only) asks for a one-use URL of the
// same HTML with its http/https images (POST /emails/{id}/frame): that
// frame is a document of the server's with its own policy (images from
// anywhere, still no scripts) and the same sandbox.
import { useEffect, useRef, useState } from "preact/hooks";
import { longDate, size } from "../format.js";
import { api, download } from "../api.js";
import { Icon } from "../ui/icons.jsx";
import { toastError } from "../ui/toast.jsx";

function frameDoc(html) {
  return (
    '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">' +
    '<meta name="referrer" content="no-referrer">' +
    '<link rel="stylesheet" href="/ui/frame.css"></head><body>' +
    html +
    "</body></html>"
  );
}

export function HtmlFrame({ html, src }) {
  const ref = useRef(null);
  function fit() {
    const f = ref.current;
    try {
      const d = f && f.contentDocument;
      // the content's own height (html is as tall as its content; its
      // scrollHeight would be at least the frame's current height)
      if (d && d.documentElement)
        f.style.height = Math.min(Math.max(Math.ceil(d.documentElement.getBoundingClientRect().height) + 2, 48), 20000) + "px";
    } catch {
      /* not readable: keep the default height */
    }
  }
  return (
    <iframe
      ref={ref}
      class="html-body"
      title="Message content"
      sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
      referrerpolicy="no-referrer"
      {...(src ? { src } : { srcdoc: frameDoc(html) })}
      onLoad={fit}
    />
  );
}

export function Body({ m, base }) {
  const [plain, setPlain] = useState(false);
  const [frame, setFrame] = useState("");
  useEffect(() => (setPlain(false), setFrame("")), [m]);
  function showImages() {
    api
      .post(base + "/frame")
      .then((r) => setFrame(r.url))
      .catch(toastError);
  }
  if (m.mime_limit) return <p class="muted">This message is nested too deeply to show; only its headers are shown.</p>;
  const hasHtml = !!m.html;
  return (
    <div class="body">
      {hasHtml && m.text && (
        <button type="button" class="link" onClick={() => setPlain(!plain)}>
          {plain ? "Show formatted" : "Show plain text"}
        </button>
      )}
      {hasHtml && !plain && base && m.remote_images > 0 && !frame && (
        <p class="notice images-off" id="images-off">
          Remote images are hidden to protect your privacy.{" "}
          <button type="button" class="link" id="show-images" onClick={showImages}>
            Show remote images
          </button>
        </p>
      )}
      {hasHtml && !plain ? <HtmlFrame key={frame} html={m.html} src={frame} /> : <pre class="text">{m.text || ""}</pre>}
      {m.truncated && <p class="muted">The message was too long to show in full.</p>}
    </div>
  );
}

export function Headers({ m }) {
  const row = (k, v) =>
    v ? (
      <div>
        <dt>{k}</dt>
        <dd>{v}</dd>
      </div>
    ) : null;
  return (
    <dl class="headers">
      {row("From", m.from)}
      {row("To", m.to)}
      {row("Cc", m.cc)}
      {row("Date", longDate(m.date || m.received))}
    </dl>
  );
}

export function Attachments({ m, base }) {
  const list = m.attachments || [];
  if (!list.length) return null;
  return (
    <section class="attachments" aria-label="Attachments">
      <h2 class="visually-hidden">Attachments</h2>
      <ul>
        {list.map((a, i) => (
          <li key={i}>
            <Icon name="clip" size={16} />
            <span class="att-name">{a.filename || "(unnamed)"}</span>
            <span class="muted">
              {a.content_type} · {size(a.size)}
            </span>
            {base && (
              <button
                type="button"
                class="icon-btn"
                aria-label={"Download " + (a.filename || "attachment")}
                onClick={() => download(`${base}/attachments/${i}`, a.filename).catch(toastError)}
              >
                <Icon name="download" />
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
