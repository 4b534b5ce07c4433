// Users: the list, a new account, and one account: role, disable/enable,
// password reset (given, or generated and shown once), recent scans.
import { useState } from "preact/hooks";
import { api, qs, request } from "../api.js";
import { href } from "../router.js";
import { longDate, shortDate } from "../format.js";
import { toast, toastError } from "../ui/toast.jsx";
import { Status, useLoad } from "./common.jsx";
import { DataTable, DetailPage, Page } from "./ui.jsx";
import { ScanTable } from "./scans.jsx";

function CreateUser({ done }) {
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    setBusy(true);
    try {
      const u = await api.post("/admin/users", { address: String(f.get("address")).trim(), password: String(f.get("password")), role: String(f.get("role")) });
      toast(`Account ${u.address} created`);
      form.reset();
      done();
    } catch (err) {
      toastError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="filters card" id="user-create" onSubmit={submit} aria-label="New account">
      <label>
        Address
        <input name="address" type="email" required autoComplete="off" />
      </label>
      <label>
        Password
        <input name="password" type="password" required minLength={8} autoComplete="new-password" />
      </label>
      <label>
        Role
        <select name="role">
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
      </label>
      <div class="row filter-actions">
        <button type="submit" class="primary" disabled={busy}>
          Create account
        </button>
      </div>
    </form>
  );
}

const USER_COLUMNS = [
  { label: "Address", cell: (u) => <a href={href("admin", "users", u.address)}>{u.address}</a> },
  { label: "Role", cell: (u) => u.role },
  { label: "State", cell: (u) => (u.disabled ? <span class="pill pill-danger">disabled</span> : <span class="pill pill-ok">active</span>) },
  { label: "Created", title: (u) => longDate(u.created), cell: (u) => shortDate(u.created) },
];

export function UserList({ route }) {
  const cursor = route.query.cursor;
  const state = useLoad(() => api.get("/admin/users" + qs({ limit: 100, cursor })), [cursor]);
  const items = (state.data && state.data.items) || [];
  return (
    <Page id="admin-users" state={state}>
      <h1>Users</h1>
      <CreateUser done={state.reload} />
      <Status state={state} empty={state.data && !items.length ? "No accounts." : null} />
      {items.length > 0 && (
        <DataTable id="users-table" label="Accounts" columns={USER_COLUMNS} rows={items} rowProps={(u) => ({ key: u.address, "data-address": u.address })} />
      )}
      {state.data && state.data.next_cursor && (
        <p>
          <a class="button" href={href("admin", "users", { cursor: state.data.next_cursor })}>
            More
          </a>
        </p>
      )}
    </Page>
  );
}

function RecentScans({ address, by }) {
  const state = useLoad(() => api.get("/admin/scans" + qs({ [by]: address, limit: 10 })), [address, by]);
  const items = (state.data && state.data.items) || [];
  return (
    <>
      <Status state={state} empty={state.data && !items.length ? "None in the retention period." : null} />
      {items.length > 0 && <ScanTable items={items} label={by === "recipient" ? "Recent mail to this user" : "Recent mail from this user"} />}
      <p>
        <a href={href("admin", "scans", { [by]: address })}>All of them</a>
      </p>
    </>
  );
}

export function UserDetail({ address, user }) {
  const state = useLoad(() => api.get("/admin/users/" + encodeURIComponent(address)), [address]);
  const [generated, setGenerated] = useState(null);
  const [busy, setBusy] = useState(false);
  const u = state.data;
  const self = user && u && user.address === u.address;

  async function patch(body, msg) {
    setBusy(true);
    try {
      await request("PATCH", "/admin/users/" + encodeURIComponent(address), body);
      toast(msg);
      state.reload();
    } catch (e) {
      toastError(e);
    } finally {
      setBusy(false);
    }
  }
  async function reset(e) {
    e.preventDefault();
    const form = e.currentTarget;
    const pw = String(new FormData(form).get("password") || "");
    setBusy(true);
    try {
      const r = await api.post("/admin/users/" + encodeURIComponent(address) + "/password", pw ? { password: pw } : {});
      form.reset();
      setGenerated(r.password || null);
      toast(`Password ${r.password ? "generated" : "set"}; ${r.sessions_ended} session${r.sessions_ended === 1 ? "" : "s"} ended`);
    } catch (err) {
      toastError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <DetailPage id="admin-user" state={state} back={href("admin", "users")} backLabel="Users">
      {u && (
        <>
          <h1>{u.address}</h1>
          <p class="row">
            <span class={"pill " + (u.disabled ? "pill-danger" : "pill-ok")} id="user-state">
              {u.disabled ? "disabled" : "active"}
            </span>
            <span class="pill pill-muted" id="user-role">
              {u.role}
            </span>
            <span class="muted">created {longDate(u.created)}</span>
          </p>
          <div class="detail-grid">
            <section class="card">
              <h2>Access</h2>
              <div class="row">
                <label>
                  Role{" "}
                  <select id="user-role-select" value={u.role} disabled={busy || self} onChange={(e) => patch({ role: e.currentTarget.value }, `Role changed to ${e.currentTarget.value}`)}>
                    <option value="user">user</option>
                    <option value="admin">admin</option>
                  </select>
                </label>
                <button type="button" id="user-disable" class={u.disabled ? "" : "danger"} disabled={busy || self} onClick={() => patch({ disabled: !u.disabled }, u.disabled ? "Account enabled" : "Account disabled; its sessions ended")}>
                  {u.disabled ? "Enable account" : "Disable account"}
                </button>
              </div>
              {self && <p class="muted small">This is your own account: another admin can change its role or disable it.</p>}
            </section>
            <section class="card">
              <h2>Reset the password</h2>
              <form id="user-password" onSubmit={reset} class="stack">
                <label>
                  New password (leave empty to generate one)
                  <input name="password" type="password" minLength={8} autoComplete="new-password" />
                </label>
                <button type="submit" disabled={busy}>
                  Reset password
                </button>
              </form>
              {generated && (
                <p class="generated" role="status">
                  New password, shown once: <code id="generated-password">{generated}</code>
                </p>
              )}
              <p class="muted small">Every session of the user ends; mail clients need the new password.</p>
            </section>
          </div>
          <h2>Recent mail to this user</h2>
          <RecentScans address={u.address} by="recipient" />
          <h2>Recent mail from this user</h2>
          <RecentScans address={u.address} by="sender" />
        </>
      )}
    </DetailPage>
  );
}
