// The application shell: sign-in, the top bar, the side navigation (a drawer
// on phones), and the view for the current route. Mail views live in mail/,
// the admin console in admin/ (loaded only for admins, routes #/admin/...).
import { useEffect, useRef, useState } from "preact/hooks";
import { session, login, logout } from "./api.js";
import { useSignal } from "./signal.js";
import { useRoute, navigate, href } from "./router.js";
import { theme, toggleTheme, effectiveTheme } from "./theme.js";
import { Toasts, toastError } from "./ui/toast.jsx";
import { Icon } from "./ui/icons.jsx";
import { KeyHelp } from "./ui/keyhelp.jsx";
import { MailNav, MailView } from "./mail/index.jsx";

function Login() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError("");
    try {
      await login(String(f.get("address")), String(f.get("password")));
      if (!location.hash || location.hash === "#/" || location.hash === "#") navigate(href("mail", "INBOX"), true);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="login" id="main">
      <form id="login-form" class="card" onSubmit={submit}>
        <h1>
          <Icon name="shield" size={28} /> ims mail
        </h1>
        <label>
          Address
          <input name="address" type="email" autocomplete="username" required autofocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

/** The admin console's module, loaded on demand for admins only. */
function useAdmin(isAdmin) {
  const [mod, setMod] = useState(null);
  useEffect(() => {
    if (!isAdmin) {
      setMod(null);
      return;
    }
    import("./admin/index.jsx").then(setMod, toastError);
  }, [isAdmin]);
  return mod;
}

function ThemeButton() {
  const t = useSignal(theme);
  const dark = effectiveTheme() === "dark";
  const label = t === "system" ? `Theme: system (${dark ? "dark" : "light"})` : `Theme: ${t}`;
  return (
    <button type="button" class="icon-btn" id="theme-toggle" aria-label={label} title={label} onClick={toggleTheme}>
      <Icon name={dark ? "moon" : "sun"} />
    </button>
  );
}

function Shell({ user }) {
  const route = useRoute();
  const admin = useAdmin(user.role === "admin");
  const [drawer, setDrawer] = useState(false);
  const mainRef = useRef(null);
  const section = route.parts[0] || "";

  useEffect(() => setDrawer(false), [route.hash]);
  useEffect(() => {
    if (!route.parts.length) navigate(href("mail", "INBOX"), true);
  }, [route.hash]);

  let view;
  if (section === "admin") {
    if (user.role !== "admin") view = <p class="empty">This page is for administrators.</p>;
    else if (!admin) view = <p class="empty">Loading…</p>;
    else view = <admin.default route={route} user={user} />;
  } else view = <MailView route={route} user={user} />;

  return (
    <div class={"shell" + (drawer ? " drawer-open" : "")}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current && mainRef.current.focus(); }}>
        Skip to content
      </a>
      <header class="topbar">
        <button type="button" class="icon-btn menu-btn" aria-label="Menu" aria-expanded={drawer} onClick={() => setDrawer(!drawer)}>
          <Icon name="menu" />
        </button>
        <a class="brand" href={href("mail", "INBOX")}>
          <Icon name="shield" size={22} /> <span>ims</span>
        </a>
        <div class="topbar-fill" />
        <ThemeButton />
        <span class="who" id="who" title={user.address}>
          {user.address}
          {user.role === "admin" ? " (admin)" : ""}
        </span>
        <button type="button" class="ghost" id="logout" onClick={() => logout()}>
          Sign out
        </button>
      </header>
      <nav class="sidebar" id="nav" aria-label="Main" onClick={(e) => e.target.closest && e.target.closest("a") && setDrawer(false)}>
        <MailNav route={route} />
        {admin && (
          <div class="nav-section" id="admin-nav">
            <h2 class="nav-title">Security console</h2>
            <ul>
              {admin.nav.map((n) => (
                <li key={n.href}>
                  <a href={n.href} class={route.hash.startsWith(n.href) ? "active" : ""} aria-current={route.hash.startsWith(n.href) ? "page" : undefined}>
                    <Icon name={n.icon || "shield"} /> <span>{n.label}</span>
                  </a>
                </li>
              ))}
            </ul>
          </div>
        )}
      </nav>
      <div class="scrim" onClick={() => setDrawer(false)} />
      <main class="content" id="main" tabIndex={-1} ref={mainRef}>
        {view}
      </main>
      <Toasts />
      <KeyHelp />
    </div>
  );
}

export function App() {
  const s = useSignal(session);
  if (!s)
    return (
      <>
        <Login />
        <Toasts />
      </>
    );
  return <Shell user={s.user} />;
}
