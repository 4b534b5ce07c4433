// Hash routing: #/path/segments?query. Back and Forward work because every
// view change is a new history entry (navigate) and views read the route
// from location.hash only. Routes of the admin console live under #/admin/.
import { signal, useSignal } from "./signal.js";

function parse() {
  const h = location.hash.replace(/^#/, "") || "/";
  const [p, q = ""] = h.split("?");
  const parts = p.split("/").filter(Boolean).map(decodeURIComponent);
  return { path: "/" + parts.map(encodeURIComponent).join("/"), parts, query: Object.fromEntries(new URLSearchParams(q)), hash: "#" + h };
}

export const route = signal(parse());
window.addEventListener("hashchange", () => route.set(parse()));

export function useRoute() {
  return useSignal(route);
}

/** href("/mail", "INBOX", {q: "x"}) -> "#/mail/INBOX?q=x" */
export function href(...segs) {
  let q = "";
  if (segs.length && typeof segs[segs.length - 1] === "object") {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(segs.pop()))
      if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    q = params.toString() ? "?" + params : "";
  }
  const path = segs
    .flatMap((s) => String(s).split("/"))
    .filter(Boolean)
    .map((s) => encodeURIComponent(decodeURIComponent(s)))
    .join("/");
  return "#/" + path + q;
}

export function navigate(h, replace) {
  if (h === location.hash) return;
  if (replace) {
    history.replaceState(null, "", h);
    route.set(parse());
  } else location.hash = h;
}
