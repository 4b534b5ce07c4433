// "?" shows the keyboard shortcuts in a modal <dialog> (Esc closes it).
import { useEffect, useRef } from "preact/hooks";

const KEYS = [
  ["j / k, ↓ / ↑", "next / previous message"],
  ["Enter or o", "open"],
  ["u or Esc", "back to the list"],
  ["x", "select"],
  ["s", "flag or unflag"],
  ["# or Delete", "delete (into Trash)"],
  ["!", "report spam"],
  ["r / a / f", "reply / reply all / forward"],
  ["U", "mark unread"],
  ["n / p", "older / newer page"],
  ["/", "search"],
  ["c", "compose"],
  ["Ctrl+Enter", "send (in compose)"],
  ["?", "this list"],
];

export function KeyHelp() {
  const ref = useRef(null);
  useEffect(() => {
    function onKey(e) {
      const t = e.target;
      if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey) return;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      e.preventDefault();
      if (ref.current && !ref.current.open) ref.current.showModal();
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
  return (
    <dialog ref={ref} class="card keyhelp" id="keyhelp" aria-labelledby="keyhelp-title">
      <h2 id="keyhelp-title">Keyboard shortcuts</h2>
      <table>
        <tbody>
          {KEYS.map(([k, what]) => (
            <tr key={k}>
              <th scope="row">
                <kbd>{k}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button type="submit" class="primary">
          Close
        </button>
      </form>
    </dialog>
  );
}
