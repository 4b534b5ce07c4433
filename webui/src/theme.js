// Light and dark themes: the system's choice (prefers-color-scheme) unless
// the user picked one; the choice is data-theme on <html> (styles.css).
import { signal } from "./signal.js";

const KEY = "ims.theme";
export const theme = signal(localStorage.getItem(KEY) || "system");

function apply(t) {
  if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}
apply(theme.get());

export function effectiveTheme() {
  const t = theme.get();
  if (t === "light" || t === "dark") return t;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** system -> the opposite of what shows now -> back to system */
export function toggleTheme() {
  const t = theme.get();
  const next = t === "system" ? (effectiveTheme() === "dark" ? "light" : "dark") : "system";
  if (next === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, next);
  apply(next);
  theme.set(next);
}
