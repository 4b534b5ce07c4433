// What the mail views do to messages, through the API (docs/api.md), with
// the folder counts refreshed afterwards. Delete is deferred for a few
// seconds so that "Undo" can cancel it (a move gives the message a new id
// in Trash, so undoing afterwards could not find it again).
import { api } from "../api.js";
import { reloadFolders } from "./folders.js";
import { toast, toastError } from "../ui/toast.jsx";
import { signal } from "../signal.js";

/** ids deleted but not yet sent to the server (hidden from lists) */
export const pendingDelete = signal(new Set());
/** bumped after every change so that lists reload */
export const mailChanged = signal(0);

function changed() {
  mailChanged.set(mailChanged.get() + 1);
  reloadFolders();
}

async function each(ids, f) {
  const errors = [];
  // a few at a time: doveadm runs every command as the user
  for (let i = 0; i < ids.length; i += 4)
    await Promise.all(ids.slice(i, i + 4).map((id) => f(id).catch((e) => errors.push(e))));
  if (errors.length) throw errors[0];
}

const enc = encodeURIComponent;

export async function setFlags(ids, flags, quiet) {
  try {
    await each(ids, (id) => api.post(`/emails/${enc(id)}/flags`, flags));
    changed();
    if (!quiet) {
      const what =
        flags.seen === true ? "Marked as read" : flags.seen === false ? "Marked as unread" : flags.flagged ? "Flagged" : "Flag removed";
      toast(ids.length > 1 ? `${what} (${ids.length})` : what);
    }
  } catch (e) {
    toastError(e);
  }
}

export async function moveTo(ids, folder) {
  try {
    await each(ids, (id) => api.post(`/emails/${enc(id)}/move`, { folder }));
    toast(`Moved to ${folder === "INBOX" ? "Inbox" : folder}` + (ids.length > 1 ? ` (${ids.length})` : ""));
    changed();
    return true;
  } catch (e) {
    toastError(e);
    changed();
    return false;
  }
}

/** label "spam": into Junk; "ham": out of Junk into the Inbox */
export async function report(ids, label) {
  try {
    await each(ids, (id) => api.post(`/emails/${enc(id)}/report`, { label }));
    toast(label === "spam" ? "Reported as spam: moved to Junk" : "Reported as not spam: moved to Inbox");
    changed();
    return true;
  } catch (e) {
    toastError(e);
    changed();
    return false;
  }
}

export function deleteWithUndo(ids, inTrash) {
  const set = new Set(pendingDelete.get());
  ids.forEach((id) => set.add(id));
  pendingDelete.set(set);
  let undone = false;
  const commit = async () => {
    if (undone) return;
    try {
      await each(ids, (id) => api.del(`/emails/${enc(id)}`));
    } catch (e) {
      toastError(e);
    }
    const s = new Set(pendingDelete.get());
    ids.forEach((id) => s.delete(id));
    pendingDelete.set(s);
    changed();
  };
  const timer = setTimeout(commit, 6000);
  window.addEventListener("pagehide", commit, { once: true });
  const what = inTrash ? "Deleted for good" : "Moved to Trash";
  toast(ids.length > 1 ? `${what} (${ids.length})` : what, {
    ms: 6000,
    action: {
      label: "Undo",
      run() {
        undone = true;
        clearTimeout(timer);
        window.removeEventListener("pagehide", commit);
        const s = new Set(pendingDelete.get());
        ids.forEach((id) => s.delete(id));
        pendingDelete.set(s);
        toast("Delete undone");
      },
    },
  });
}

export async function blockSender(address, action) {
  try {
    await api.put("/settings/senders", { entry: address, action });
    toast(action === "block" ? `Blocked ${address}` : `Allowed ${address}`);
  } catch (e) {
    toastError(e);
  }
}
