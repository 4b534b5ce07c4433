// The user's folders with their unread counts, shared by the side
// navigation and the move menus; reload() after anything that changes them.
import { api } from "../api.js";
import { signal } from "../signal.js";

export const folders = signal(null);

export async function reloadFolders() {
  try {
    const r = await api.get("/emails/folders");
    folders.set(r.folders || []);
  } catch {
    if (!folders.get()) folders.set([]);
  }
}

export const ROLE_ICON = { inbox: "inbox", sent: "send", drafts: "drafts", junk: "junk", trash: "trash" };

export function folderLabel(f) {
  if (!f) return "";
  if (f.role === "inbox" || f.name === "INBOX") return "Inbox";
  return f.name;
}

export function folderByRole(role) {
  return (folders.get() || []).find((f) => f.role === role);
}
