// Webmail: the side navigation (folders with unread counts, quarantine,
// settings) and the views under #/mail, #/compose, #/quarantine, #/settings.
import { useEffect } from "preact/hooks";
import { useSignal } from "../signal.js";
import { href } from "../router.js";
import { Icon } from "../ui/icons.jsx";
import { folders, reloadFolders, ROLE_ICON, folderLabel } from "./folders.js";

export function MailNav({ route }) {
  const list = useSignal(folders);
  useEffect(() => {
    reloadFolders();
  }, []);
  const current = route.parts[0] === "mail" ? route.parts[1] || "INBOX" : null;
  const link = (h, active, icon, label, count, extra = {}) => (
    <li key={h}>
      <a href={h} class={active ? "active" : ""} aria-current={active ? "page" : undefined} {...extra}>
        <Icon name={icon} /> <span>{label}</span>
        {count ? (
          <span class="count" aria-label={count + " unread"}>
            {count}
          </span>
        ) : null}
      </a>
    </li>
  );
  return (
    <div class="nav-section">
      <a class="button primary compose-btn" href={href("compose")}>
        <Icon name="compose" /> Compose
      </a>
      <h2 class="nav-title">Folders</h2>
      <ul id="folders">
        {(list || []).map((f) =>
          link(href("mail", f.name), current === f.name, ROLE_ICON[f.role] || "folder", folderLabel(f), f.unseen, {
            "data-folder": f.name,
          }),
        )}
      </ul>
      <h2 class="nav-title">Protection</h2>
      <ul>
        {link(href("quarantine"), route.parts[0] === "quarantine", "shield", "Held for you")}
        {link(href("settings"), route.parts[0] === "settings", "gear", "Senders and settings")}
      </ul>
    </div>
  );
}

export function MailView({ route }) {
  return (
    <section class="page">
      <h1>{route.parts[1] || "Mail"}</h1>
      <p class="empty">Loading…</p>
    </section>
  );
}
