// The console's list building blocks, written once: a data table (rows on
// wide screens, cards on phones: every cell carries its column's label), the
// header table of a message, the Newer/Older pager, the Apply/Clear buttons
// of a filter form and the selection of rows for bulk actions.
import { useState } from "preact/hooks";
import { Status, TableBox } from "./common.jsx";

/**
 * columns: [{ label, cell(row), title?(row), hidden? }]; a hidden label is
 * read out but not shown in the header. rowProps(row) gives the row's key and
 * data-* attributes.
 */
export function DataTable({ id, class: cls = "data", label, columns, rows, rowProps }) {
  return (
    <TableBox label={label}>
      <table class={cls} id={id}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col">{c.hidden ? <span class="visually-hidden">{c.label}</span> : c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr {...rowProps(r)}>
              {columns.map((c) => (
                <td data-label={c.label} title={c.title ? c.title(r) : undefined} class={c.class ? c.class(r) : undefined}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  );
}

/** A message's header fields, one row each. */
export function HeaderTable({ id, headers }) {
  return (
    <TableBox label="Headers">
      <table class="data" id={id}>
        <tbody>
          {headers.map((h, i) => (
            <tr key={i}>
              <th scope="row">{h.name}</th>
              <td>{h.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  );
}

/** Newer (Back: the cursor lives in the URL) and Older (the server's next cursor). */
export function Pager({ cursor, older, olderId, children }) {
  return (
    <div class="row pager">
      {cursor && (
        <button type="button" onClick={() => history.back()}>
          Newer
        </button>
      )}
      {older && (
        <a class="button" id={olderId} href={older}>
          Older
        </a>
      )}
      {children}
    </div>
  );
}

/** The end of a filter form: Apply, and Clear back to the unfiltered list. */
export function FilterActions({ clear }) {
  return (
    <div class="row filter-actions">
      <button type="submit" class="primary">
        Apply
      </button>
      <a class="button" href={clear}>
        Clear
      </a>
    </div>
  );
}

/** useSelection(items) -> {sel, toggle, all, toggleAll, clear}; items have an id. */
export function useSelection(items) {
  const [sel, setSel] = useState(new Set());
  const toggle = (id) => {
    const s = new Set(sel);
    s.has(id) ? s.delete(id) : s.add(id);
    setSel(s);
  };
  const all = items.length > 0 && items.every((m) => sel.has(m.id));
  const toggleAll = () => setSel(all ? new Set() : new Set(items.map((m) => m.id)));
  return { sel, toggle, all, toggleAll, clear: () => setSel(new Set()) };
}

/** A console page: busy while its data loads. */
export function Page({ id, state, children }) {
  return (
    <section class="page console" id={id} aria-busy={state.loading ? "true" : "false"}>
      {children}
    </section>
  );
}

/** One item's page: the way back to its list, the load state, then the item. */
export function DetailPage({ id, state, back, backLabel, children }) {
  return (
    <Page id={id} state={state}>
      <p>
        <a href={back}>← {backLabel}</a>
      </p>
      <Status state={state} />
      {children}
    </Page>
  );
}

/** A filter's <select>: options are [value, label]; `any` is the label of "no filter". */
export function SelectFilter({ label, name, value, any, options }) {
  return (
    <label>
      {label}
      <select name={name} value={value}>
        {any !== undefined && <option value="">{any}</option>}
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
}
