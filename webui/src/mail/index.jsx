// Webmail: the side navigation (folders with unread counts, what is held
// for the user, settings) and the views under #/mail/FOLDER[/ID],
// #/compose, #/quarantine[/ID] and #/settings.
import { useEffect } from "preact/hooks";
import { useSignal } from "../signal.js";
import { href } from "../router.js";
import { Icon } from "../ui/icons.jsx";
import { folders, reloadFolders, ROLE_ICON, folderLabel } from "./folders.js";
import { MailPage } from "./list.jsx";
import { Compose } from "./compose.jsx";
import { Quarantine } from "./quarantine.jsx";
import { Settings } from "./settings.jsx";

export function MailNav({ route }) {
  const list = useSignal(folders);
  useEffect(() => {
    reloadFolders();
    const t = setInterval(reloadFolders, 60000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    const inbox = (list || []).find((f) => f.role === "inbox");
    document.title = inbox && inbox.unseen ? `(${inbox.unseen}) ims mail` : "ims mail";
  }, [list]);
  const current = route.parts[0] === "mail" ? route.parts[1] || "INBOX" : null;
  const link = (h, active, icon, label, count, extra = {}) => (
    <li key={h}>
      <a href={h} class={active ? "active" : ""} aria-current={active ? "page" : undefined} {...extra}>
        <Icon name={icon} /> <span>{label}</span>
        {count ? (
          <span class="count" title={count + " unread"}>
            {count}
            <span class="visually-hidden"> unread</span>
          </span>
        ) : null}
      </a>
    </li>
  );
  return (
    <div class="nav-section">
      <a class="button primary compose-btn" href={href("compose")} id="compose-btn">
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
        {link(href("quarantine"), route.parts[0] === "quarantine", "shield", "Held for you", 0, { id: "nav-held" })}
        {link(href("settings"), route.parts[0] === "settings", "gear", "Blocked and allowed senders", 0, { id: "nav-senders" })}
      </ul>
    </div>
  );
}

export function MailView({ route, user }) {
  switch (route.parts[0]) {
    case "compose":
      return <Compose route={route} user={user} />;
    case "quarantine":
      return <Quarantine route={route} />;
    case "settings":
      return <Settings />;
    case "mail":
      return <MailPage route={route} user={user} />;
    default:
      return <p class="empty">No such page.</p>;
  }
}
