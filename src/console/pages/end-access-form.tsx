import { END_REASON_MAX } from '../../access/access.dto.js';
import type { Children } from '@kitajs/html';
import type { PageContext } from '../page-context.js';

/**
 * "End now" with its mandatory reason and a confirmation box (the server requires both).
 * Shown only to those who may end this access (mayEndAccess); the server checks again.
 */
export function EndAccessForm(props: {
  ctx: PageContext;
  /** Where the form posts. */
  action: string;
  /** The prefix of the form's element ids (one such form per page). */
  id: string;
  heading: string;
  /** What ends, in a sentence. */
  what: string;
  button: string;
  /** Fields asked before the reason (the vendor enterprise, for ending an enterprise's access). */
  children?: Children;
}): JSX.Element {
  const { id } = props;
  return (
    <section class="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`} safe>
        {props.heading}
      </h2>
      <form method="post" action={props.action} class="stack">
        <input type="hidden" name="_csrf" value={props.ctx.csrfToken ?? ''} />
        <p class="hint" safe>
          {`${props.what} The device's agent is told at once if it is waiting on the request, otherwise at its ` +
            `next heartbeat; repeats under an ended grant are refused.`}
        </p>
        {props.children ?? ''}
        <label for={`${id}-reason`}>Reason (required; the vendor's engineer reads it, the audit trail keeps it)</label>
        <textarea id={`${id}-reason`} name="reason" rows="2" maxlength={String(END_REASON_MAX)} required></textarea>
        <div class="check">
          <input id={`${id}-confirm`} name="confirm" type="checkbox" value="yes" required />
          <label for={`${id}-confirm`}>Yes, end it now</label>
        </div>
        <button type="submit" class="danger" safe>
          {props.button}
        </button>
      </form>
    </section>
  );
}
