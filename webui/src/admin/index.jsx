// The security console (admins only; the shell loads this module for them):
// `nav` is its part of the side navigation, the default export renders every
// route under #/admin/... Chart.js is imported from here (dashboard.jsx), so
// users never download it. docs/webui.md, "The security console".
import "./admin.css";
import { Dashboard } from "./dashboard.jsx";
import { ScanList, ScanDetail } from "./scans.jsx";
import { QuarantineList, QuarantineDetail } from "./quarantine.jsx";
import { Audit } from "./audit.jsx";
import { UserList, UserDetail } from "./users.jsx";

export const nav = [
  { href: "#/admin/dashboard", label: "Dashboard", icon: "shield" },
  { href: "#/admin/scans", label: "Scans", icon: "search" },
  { href: "#/admin/quarantine", label: "Quarantine", icon: "junk" },
  { href: "#/admin/audit", label: "Audit", icon: "check" },
  { href: "#/admin/users", label: "Users", icon: "user" },
];

export default function Admin({ route, user }) {
  const [, page, arg] = route.parts;
  switch (page) {
    case "scans":
      return arg ? <ScanDetail id={arg} key={arg} /> : <ScanList route={route} />;
    case "quarantine":
      return arg ? <QuarantineDetail id={arg} key={arg} /> : <QuarantineList route={route} />;
    case "audit":
      return <Audit route={route} />;
    case "users":
      return arg ? <UserDetail address={arg} user={user} key={arg} /> : <UserList route={route} />;
    case undefined:
    case "dashboard":
      return <Dashboard route={route} />;
    default:
      return (
        <section class="page">
          <h1>Not found</h1>
          <p class="empty">There is no console page {route.hash}.</p>
        </section>
      );
  }
}
