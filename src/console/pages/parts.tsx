import { escapeHtml, type Children } from '@kitajs/html';
/** Small pieces the console's pages share. */

/** A term and its value in a `dl.facts`; an empty value shows as a dash. */
export function Fact(props: { term: string; value: string | null | undefined }): JSX.Element {
  return (
    <>
      <dt safe>{props.term}</dt>
      <dd safe>{props.value || '—'}</dd>
    </>
  );
}

/** A labelled input of a filter form, filled with what was sent. */
export function TextField<F extends object>(props: {
  name: keyof F & string;
  label: string;
  fields: F;
  type?: string;
}): JSX.Element {
  return (
    <div class="field">
      <label for={props.name} safe>
        {props.label}
      </label>
      <input id={props.name} name={props.name} type={props.type ?? 'text'} value={String(props.fields[props.name])} />
    </div>
  );
}

/**
 * A list's search form, folded behind a "Search" summary: on a phone its fields would fill the
 * first screen before the first result. Open when a filter is set (the page of a search), and
 * on a wide screen (console.js opens `data-open-when-wide`, where the fields sit side by side).
 */
export function SearchFold(props: { filtered: boolean; children: Children }): JSX.Element {
  return (
    <details class="search" open={props.filtered} data-open-when-wide="">
      <summary>{props.filtered ? 'Search (filters set)' : 'Search'}</summary>
      {props.children}
    </details>
  );
}

/** What the last form did ("The rule was saved…"), announced to screen readers. */
export function Notice(props: { text?: string }): JSX.Element {
  return props.text ? (
    <p class="notice ok" role="status" safe>
      {props.text}
    </p>
  ) : (
    ''
  );
}

/** The link to the next page of a filtered list: the filters as sent (empty ones left out) and the cursor. */
export function nextPageHref(path: string, fields: Record<string, string>, cursor: Record<string, string>): string {
  const params = new URLSearchParams({ ...fields, ...cursor });
  for (const [name, value] of [...params]) if (value === '') params.delete(name);
  return `${path}?${params.toString()}`;
}

/** A row's own attributes (an id to link to, a data- attribute the tests find it by). */
export type RowAttributes = Record<string, string>;

/**
 * A list's table. Wide enough (48rem), it is a table; narrower (a phone), each row is a card
 * and each cell says its column (`data-label`, shown by `td::before` in console.css), so no
 * column hides off screen. The column heads are `th scope=col` (a false entry: a column this
 * person does not get, and its cell is false too); the caption, when the section's heading does
 * not already name the table, is for screen readers. `cells` gives a row's cells, each a `<td>`
 * or a `<th scope="row">`, one a column.
 */
export function DataTable<T>(props: {
  caption?: string;
  columns: (string | false)[];
  rows: T[];
  cells: (row: T) => (JSX.Element | false)[];
  rowAttributes?: (row: T) => RowAttributes;
}): JSX.Element {
  return (
    <div class="table-wrap">
      <table>
        {props.caption ? (
          <caption class="visually-hidden" safe>
            {props.caption}
          </caption>
        ) : (
          ''
        )}
        <thead>
          <tr>
            {props.columns.map((column) =>
              column === false ? (
                ''
              ) : (
                <th scope="col" safe>
                  {column}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr {...(props.rowAttributes?.(row) ?? {})}>
              {props.cells(row).map((cell, i) => labelled(cell, props.columns[i]))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A cell with its column's name as `data-label`. The cell is markup this code made (a
 * `<td` or `<th` at its very start, never data), so the attribute goes right after the tag's name.
 */
function labelled(cell: JSX.Element | false, column: string | false | undefined): JSX.Element {
  if (cell === false && column === false) return '';
  if (typeof cell !== 'string' || !/^<t[dh][\s>]/.test(cell) || typeof column !== 'string') {
    throw new Error('A DataTable cell is a <td> or <th>, one for each column');
  }
  return `${cell.slice(0, 3)} data-label="${escapeHtml(column)}"${cell.slice(3)}`;
}
