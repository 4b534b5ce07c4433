// The user's own sender list (GET/PUT/DELETE /settings/senders): senders or
// whole domains they block or always allow, and the theme.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { useSignal } from "../signal.js";
import { theme, toggleTheme } from "../theme.js";
import { toast, toastError } from "../ui/toast.jsx";

export function Settings() {
  const [list, setList] = useState(null);
  const [max, setMax] = useState(null);
  const t = useSignal(theme);
  function load() {
    api.get("/settings/senders").then(
      (r) => {
        setList(r.items);
        setMax(r.max);
      },
      (e) => (toastError(e), setList([])),
    );
  }
  useEffect(load, []);
  async function add(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const form = e.currentTarget;
    try {
      const r = await api.put("/settings/senders", { entry: String(f.get("entry")).trim(), action: f.get("action") });
      toast((r.action === "block" ? "Blocked " : "Allowed ") + r.entry);
      form.reset();
      load();
    } catch (err) {
      toastError(err);
    }
  }
  async function remove(entry) {
    try {
      await api.del("/settings/senders?entry=" + encodeURIComponent(entry));
      toast("Removed " + entry);
      load();
    } catch (err) {
      toastError(err);
    }
  }
  return (
    <section class="page" id="senders">
      <h1>Blocked and allowed senders</h1>
      <p class="muted">
        Mail from a blocked sender or domain is treated as spam; mail from an allowed one is not held for looking like spam
        (viruses are still stopped).
      </p>
      <form class="card row add-sender" onSubmit={add}>
        <label for="s-entry">Address or domain</label>
        <input id="s-entry" name="entry" required placeholder="news@shop.example or shop.example" />
        <label for="s-action" class="visually-hidden">
          Action
        </label>
        <select id="s-action" name="action">
          <option value="block">Block</option>
          <option value="allow">Always allow</option>
        </select>
        <button type="submit" class="primary">
          Add
        </button>
      </form>
      {!list ? (
        <p class="empty">Loading…</p>
      ) : !list.length ? (
        <p class="empty">Your list is empty.</p>
      ) : (
        <div class="table-wrap">
          <table class="senders">
            <thead>
              <tr>
                <th scope="col">Sender or domain</th>
                <th scope="col">Rule</th>
                <th scope="col">
                  <span class="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.entry}>
                  <td>{s.entry}</td>
                  <td>
                    <span class={"badge " + (s.action === "block" ? "spam" : "ok")}>{s.action === "block" ? "blocked" : "allowed"}</span>
                  </td>
                  <td class="num">
                    <button type="button" class="link" onClick={() => remove(s.entry)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {max != null && list && <p class="muted small">{list.length} of at most {max} entries.</p>}
      <h2>Appearance</h2>
      <p>
        Theme: {t === "system" ? "as the system" : t}{" "}
        <button type="button" onClick={toggleTheme}>
          Switch
        </button>
      </p>
    </section>
  );
}
