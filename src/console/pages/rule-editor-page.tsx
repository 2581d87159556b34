import type { DraftProblem } from '../../policies/console-rule-draft.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

/** The result of checking the draft: valid, or the loader's problems at their lines. */
export function RuleCheck(props: { problems: DraftProblem[] | null }): JSX.Element {
  if (props.problems === null) return '';
  if (props.problems.length === 0) {
    return <p class="notice ok">The rule is valid with the policy files and the other console rules.</p>;
  }
  return (
    <div class="notice error">
      <p>
        <strong>Not valid yet:</strong>
      </p>
      <ul>
        {props.problems.map((p) => (
          <li data-line={p.line === undefined ? undefined : String(p.line)} safe>
            {`${p.where[0].toUpperCase()}${p.where.slice(1)}: ${p.message}`}
          </li>
        ))}
      </ul>
    </div>
  );
}

const EXAMPLE = `id: acme-restart-ct
description: Acme may restart CT scanners
effect: allow
actions: [restart]
devices: [ct-scanners]
remoteUsers:
  enterprises: [acme-medical]
`;

/**
 * A console rule in YAML, as in a policy file's `rules:` list. htmx posts the text after
 * each pause in typing; the server answers with the loader's problems at their lines.
 */
export function RuleEditorPage(props: {
  ctx: PageContext;
  /** The stored rule's id when editing; absent for a new rule. */
  editing?: string;
  text: string;
  problems: DraftProblem[] | null;
}): JSX.Element {
  const { ctx, editing } = props;
  const action = editing ? `/policies/console-rules/${editing}` : '/policies/console-rules';
  return (
    <Layout ctx={ctx} title={editing ? `Console rule ${editing}` : 'New console rule'}>
      <form method="post" action={action} class="stack">
        <input type="hidden" name="_csrf" value={ctx.csrfToken ?? ''} />
        {editing ? <input type="hidden" name="editing" value={editing} /> : ''}
        <label for="rule-text">Rule (YAML, as one item of a policy file's rules list)</label>
        <p class="hint" id="rule-hint">
          Checked as you type with the same loader as the policy files. Line numbers are this box's.
        </p>
        <textarea
          id="rule-text"
          name="text"
          rows="16"
          spellcheck="false"
          class="code"
          aria-describedby="rule-hint rule-check"
          hx-post="/policies/console-rules/check"
          hx-trigger="input changed delay:400ms"
          hx-target="#rule-check"
          hx-swap="innerHTML"
          hx-indicator="#rule-checking"
          safe
        >
          {props.text || (editing ? '' : EXAMPLE)}
        </textarea>
        <p id="rule-checking" class="htmx-indicator hint">
          Checking…
        </p>
        <div id="rule-check" role="status" aria-live="polite">
          <RuleCheck problems={props.problems} />
        </div>
        <button type="submit">{editing ? 'Save rule' : 'Add rule'}</button>
      </form>
      {editing ? (
        <form method="post" action={`/policies/console-rules/${editing}/delete`} class="stack">
          <input type="hidden" name="_csrf" value={ctx.csrfToken ?? ''} />
          <button type="submit" class="danger">
            Delete rule
          </button>
        </form>
      ) : (
        ''
      )}
      <p>
        <a href="/policies">Back to the rules</a>
      </p>
    </Layout>
  );
}
