// The user's folders with their unread counts, shared by the side
// navigation and the move menus; reload() after anything that changes them.
import { api } from "../api.js";
import { signal } from "../signal.js";

export const folders = signal(null);

export async function reloadFolders() {
  try {
    const r = await api.get("/emails/folders");
    const order = { inbox: 0, drafts: 1, sent: 2, junk: 3, trash: 4 };
    const rank = (f) => (f.role in order ? order[f.role] : 5);
    folders.set((r.folders || []).slice().sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name)));
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
