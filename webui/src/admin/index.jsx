// The security console (owned by the i14-console work): the shell loads this
// module for admins only and shows `nav` in the side navigation; the default
// export renders every route under #/admin/... (route.parts[0] === "admin").
// Charts: chart.js (in package.json), imported from here so that users never
// download it.
export const nav = [
  { href: "#/admin/dashboard", label: "Dashboard", icon: "shield" },
];

export default function Admin({ route }) {
  return (
    <section class="page">
      <h1>Security console</h1>
      <p class="empty">Nothing here yet ({route.hash}).</p>
    </section>
  );
}
