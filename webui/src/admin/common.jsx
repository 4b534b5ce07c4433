// Shared pieces of the security console: labels that say what they mean,
// loading state, the scroll box that tables live in, pills.
import { useEffect, useState, useCallback } from "preact/hooks";
import { OUTCOME } from "../format.js";

/** The outcome (what happened to the message), never the classifier's opinion. */
export function outcomeLabel(action) {
  return OUTCOME[action] || action || "unknown";
}

/** The classifier's opinion, in words. */
export const OPINION = { ham: "not spam", spam: "spam" };
export function opinionLabel(verdict) {
  return verdict ? OPINION[verdict] || verdict : "not classified";
}

/** "spam probability 35 %" (never a bare p=). */
export function spamProbability(p) {
  if (p === undefined || p === null || Number.isNaN(Number(p))) return "spam probability unknown";
  return "spam probability " + Math.round(Number(p) * 100) + " %";
}

const OUTCOME_TONE = { accept: "ok", tag: "warn", quarantine: "warn", reject: "danger", tempfail: "muted" };

export function Outcome({ action }) {
  return <span class={"pill pill-" + (OUTCOME_TONE[action] || "muted")}>{outcomeLabel(action)}</span>;
}

export function Opinion({ verdict, probability }) {
  return (
    <span class={"pill pill-" + (verdict === "spam" ? "danger" : verdict === "ham" ? "ok" : "muted")}>
      {opinionLabel(verdict)}
      {probability !== undefined && probability !== null ? " (" + spamProbability(probability) + ")" : ""}
    </span>
  );
}

const AUTH_TONE = { pass: "ok", fail: "danger", softfail: "warn", none: "muted", neutral: "muted" };
export function AuthResult({ name, result }) {
  const r = result || "none";
  return (
    <span class={"pill pill-" + (AUTH_TONE[r] || "warn")}>
      {name} {r}
    </span>
  );
}

/** A wide table scrolls inside its own box (keyboard-focusable, labelled). */
export function TableBox({ label, children }) {
  return (
    <div class="table-box" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** useLoad(fn, deps) -> {data, error, loading, reload} */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const run = useCallback(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

export function Status({ state, empty }) {
  if (state.error)
    return (
      <p class="form-error" role="alert">
        {state.error.message}
      </p>
    );
  if (state.loading && !state.data) return <p class="empty">Loading…</p>;
  if (empty) return <p class="empty">{empty}</p>;
  return null;
}

/** ms -> the value of an <input type="datetime-local"> (local time). */
export function toLocalInput(ms) {
  if (!ms) return "";
  const d = new Date(Number(ms));
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(v) {
  if (!v) return "";
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? String(t) : "";
}

/** A filter form that folds away on phones unless a filter is set. */
export function FilterBox({ active, children }) {
  const wide = typeof matchMedia === "function" && matchMedia("(min-width: 701px)").matches;
  return (
    <details class="filter-box" open={wide || active}>
      <summary>Filters{active ? " (on)" : ""}</summary>
      {children}
    </details>
  );
}

export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const ADDR_RE = /^[^@\s]+@[^@\s]+$/;
