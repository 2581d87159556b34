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
