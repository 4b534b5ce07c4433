// Short messages at the bottom of the screen (role=status, read out by
// screen readers), with an optional action such as "Undo".
import { signal, useSignal } from "../signal.js";

const toasts = signal([]);
let seq = 0;

/** toast("Moved to Junk", {error, action: {label, run}, ms}) */
export function toast(text, opts = {}) {
  const id = ++seq;
  toasts.set([...toasts.get(), { id, text, ...opts }]);
  setTimeout(() => dismiss(id), opts.ms || (opts.action ? 8000 : 4000));
  return id;
}

export function dismiss(id) {
  toasts.set(toasts.get().filter((t) => t.id !== id));
}

export function toastError(e) {
  toast(e && e.message ? e.message : String(e), { error: true });
}

export function Toasts() {
  const list = useSignal(toasts);
  return (
    <div class="toasts" role="status" aria-live="polite" id="flash">
      {list.map((t) => (
        <div key={t.id} class={"toast" + (t.error ? " error" : "")}>
          <span>{t.text}</span>
          {t.action && (
            <button
              type="button"
              class="link"
              onClick={() => {
                dismiss(t.id);
                t.action.run();
              }}
            >
              {t.action.label}
            </button>
          )}
          <button type="button" class="icon-btn" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
