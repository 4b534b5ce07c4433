// A tiny observable value and a Preact hook to read it (no extra library).
import { useEffect, useState } from "preact/hooks";

export function signal(value) {
  const subs = new Set();
  return {
    get: () => value,
    set(v) {
      value = v;
      for (const f of subs) f(v);
    },
    subscribe(f) {
      subs.add(f);
      return () => subs.delete(f);
    },
  };
}

export function useSignal(sig) {
  const [v, setV] = useState(sig.get());
  useEffect(() => {
    setV(sig.get());
    return sig.subscribe(setV);
  }, [sig]);
  return v;
}
