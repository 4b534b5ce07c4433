// "Move to…": a labelled select of the user's folders (keyboard friendly).
import { useSignal } from "../signal.js";
import { folders, folderLabel } from "./folders.js";

export function MoveMenu({ current, onMove }) {
  const list = useSignal(folders) || [];
  return (
    <select
      class="move"
      aria-label="Move to folder"
      value=""
      onChange={(e) => {
        const v = e.currentTarget.value;
        e.currentTarget.value = "";
        if (v) onMove(v);
      }}
    >
      <option value="">Move to…</option>
      {list
        .filter((f) => f.name !== current)
        .map((f) => (
          <option key={f.name} value={f.name}>
            {folderLabel(f)}
          </option>
        ))}
    </select>
  );
}
