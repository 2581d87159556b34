import type { Children } from '@kitajs/html';
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

/**
 * A list's table: it scrolls sideways on its own on a phone (`table-wrap`), the column heads
 * are `th scope=col` (a false entry: a column this person does not get), and the caption, when
 * the section's heading does not already name the table, is for screen readers. Children are the rows.
 */
export function DataTable(props: { caption?: string; columns: (string | false)[]; children?: Children }): JSX.Element {
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
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
