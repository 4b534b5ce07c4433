// The one place the UI talks to ims-webapi (docs/api.md): JSON in and out,
// the bearer token, one refresh on 401 (shared by concurrent calls), back to
// the sign-in screen when the session is over, 429/503 Retry-After honoured
// once for reads. Every error is an ApiError with the server's message.
import { signal } from "./signal.js";

const KEY = "ims.session";

/** The signed-in user ({address, role}) or null; views subscribe to it. */
export const session = signal(load());

function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return s && s.access && s.user ? s : null;
  } catch {
    return null;
  }
}

function store(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  session.set(s);
}

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

function fromTokens(t) {
  return { access: t.access_token, refresh: t.refresh_token, user: t.user };
}

export async function login(address, password) {
  const t = await request("POST", "/auth/login", { address, password }, { anonymous: true });
  store(fromTokens(t));
  return t.user;
}

export async function logout() {
  const s = session.get();
  if (s) {
    try {
      await request("POST", "/auth/logout", undefined, { noRefresh: true });
    } catch {
      /* the session ends here either way */
    }
  }
  store(null);
}

let refreshing = null;

/** Swaps the refresh token for a new pair once, however many calls ask. */
function refresh() {
  if (!refreshing) {
    const s = session.get();
    refreshing = (async () => {
      if (!s || !s.refresh) return false;
      try {
        const r = await fetch("/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: s.refresh }),
        });
        if (!r.ok) return false;
        store(fromTokens(await r.json()));
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function errorOf(r) {
  let msg = "HTTP " + r.status;
  try {
    const b = await r.json();
    if (b && b.error) msg = b.error;
  } catch {
    /* not JSON */
  }
  const ra = parseInt(r.headers.get("Retry-After") || "", 10);
  if (r.status === 503 && msg === "HTTP 503") msg = "the server is unavailable; try again shortly";
  return new ApiError(r.status, msg, Number.isFinite(ra) ? ra : undefined);
}

/**
 * request(method, path, body, opts) -> parsed JSON (null for 204), or the
 * Response itself with opts.raw. opts.anonymous: no token; opts.noRefresh.
 */
export async function request(method, path, body, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const s = session.get();
    const headers = { Accept: "application/json" };
    if (s && !opts.anonymous) headers.Authorization = "Bearer " + s.access;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let r;
    try {
      r = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "cannot reach the server");
    }
    if (r.status === 401 && s && !opts.anonymous && !opts.noRefresh && attempt === 0) {
      if (await refresh()) continue;
      store(null); // back to sign-in
      throw new ApiError(401, "your session has ended; please sign in again");
    }
    if ((r.status === 503 || r.status === 429) && method === "GET" && attempt === 0) {
      const ra = parseInt(r.headers.get("Retry-After") || "", 10);
      if (Number.isFinite(ra) && ra >= 0 && ra <= 5) {
        await sleep(ra * 1000 + 100);
        continue;
      }
    }
    if (!r.ok) throw await errorOf(r);
    if (opts.raw) return r;
    if (r.status === 204) return null;
    const text = await r.text();
    return text ? JSON.parse(text) : null;
  }
}

export const api = {
  get: (p, o) => request("GET", p, undefined, o),
  post: (p, b, o) => request("POST", p, b === undefined ? {} : b, o),
  put: (p, b, o) => request("PUT", p, b, o),
  del: (p, o) => request("DELETE", p, undefined, o),
};

/** A query string from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {}))
    if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? "?" + s : "";
}

/** Downloads a protected file (bearer token) through a blob URL. */
export async function download(path, fallbackName) {
  const r = await request("GET", path, undefined, { raw: true });
  const cd = r.headers.get("Content-Disposition") || "";
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name || "download";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
