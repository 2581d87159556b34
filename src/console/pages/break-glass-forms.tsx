import type { ApprovalDetail } from '../../approvals/approval-queue.js';
import { BREAK_GLASS_REASON_MIN, COMMENT_MAX } from '../../approvals/approvals.dto.js';
import { formatTime } from '../console-time.js';
import type { PageContext } from '../page-context.js';

/** What the break-glass form sent, and what the server found wrong with it (shown again with it). */
export interface BreakGlassAttempt {
  reason: string;
  grantMinutes: string;
  problems: string[];
}

/**
 * Break-glass on a pending request: shown only when the API's view says this person may
 * (`youMayBreakGlass`: emergency group, scope, not their own, rules with breakGlass: true).
 * The reason is checked as one types (console.js) and by the server with the API's schema.
 */
export function BreakGlassForm(props: {
  ctx: PageContext;
  detail: ApprovalDetail;
  attempt?: BreakGlassAttempt;
}): JSX.Element {
  const { ctx, detail, attempt } = props;
  if (detail.status !== 'pending' || !detail.youMayBreakGlass) return '';
  const maxGrant = detail.approval.maxGrantMinutes;
  const others = detail.eligibleApprovers.filter((name) => name !== ctx.staff?.user.username);
  return (
    <section class="card" aria-labelledby="break-glass">
      <h2 id="break-glass">Break-glass: allow it alone</h2>
      <p class="notice error" id="break-glass-warning">
        {'Only for an emergency no approver answers. Every approver of this request is notified at once '}
        <span safe>{`(${others.join(', ') || 'none found'}), `}</span>
        {'by e-mail and webhook, and another approver must review it.'}
      </p>
      {attempt && attempt.problems.length > 0 ? (
        <div class="notice error" role="alert" id="break-glass-problems" tabindex="-1" data-focus-on-load="">
          <p>The glass was not broken:</p>
          <ul>
            {attempt.problems.map((p) => (
              <li safe>{p}</li>
            ))}
          </ul>
        </div>
      ) : (
        ''
      )}
      <form method="post" action={`/approvals/${detail.requestId}/break-glass`} class="stack">
        <input type="hidden" name="_csrf" value={ctx.csrfToken ?? ''} />
        <label for="break-glass-reason">{`Why this cannot wait (at least ${BREAK_GLASS_REASON_MIN} characters)`}</label>
        <textarea
          id="break-glass-reason"
          name="reason"
          rows="3"
          maxlength={String(COMMENT_MAX)}
          required
          data-min-chars={String(BREAK_GLASS_REASON_MIN)}
          aria-describedby="break-glass-reason-count break-glass-warning"
          safe
        >
          {attempt?.reason ?? ''}
        </textarea>
        <p class="hint" id="break-glass-reason-count" data-chars-for="break-glass-reason" aria-live="polite"></p>
        {maxGrant ? (
          <>
            <label for="break-glass-minutes" safe>
              {`Also allow repeats for minutes (optional, at most ${maxGrant})`}
            </label>
            <input
              id="break-glass-minutes"
              name="grantMinutes"
              type="number"
              inputmode="numeric"
              min="1"
              max={String(maxGrant)}
              value={attempt?.grantMinutes ?? ''}
            />
          </>
        ) : (
          ''
        )}
        <button type="submit" class="danger">
          Break the glass and allow
        </button>
      </form>
    </section>
  );
}

/** Who broke the glass and why, whether it was reviewed, and the review form for another approver. */
export function BreakGlassReview(props: { ctx: PageContext; detail: ApprovalDetail }): JSX.Element {
  const { ctx, detail } = props;
  const use = detail.breakGlass;
  if (!use) return '';
  const review = use.review
    ? `${use.review.verdict === 'accept' ? 'Accepted' : 'Incident raised'} by ${use.review.by} at ` +
      `${formatTime(use.review.at, ctx.timeZone)}: “${use.review.comment}”`
    : 'Not reviewed yet';
  return (
    <section class="card" aria-labelledby="break-glass-use">
      <h2 id="break-glass-use">
        {'Break-glass '}
        {use.needsReview ? <span class="flag">Needs review</span> : ''}
      </h2>
      <dl class="facts">
        <dt>Allowed alone by</dt>
        <dd safe>{`${use.by} at ${formatTime(use.at, ctx.timeZone)}`}</dd>
        <dt>Their reason</dt>
        <dd safe>{use.reason}</dd>
        <dt>Repeats allowed for</dt>
        <dd>{use.grantMinutes ? `${use.grantMinutes} min` : 'no repeats'}</dd>
        <dt>Review</dt>
        <dd safe>{review}</dd>
      </dl>
      {detail.youMayReview ? (
        <form method="post" action={`/approvals/${detail.requestId}/review`} class="stack">
          <input type="hidden" name="_csrf" value={ctx.csrfToken ?? ''} />
          <fieldset class="stack">
            <legend>Your review</legend>
            <div class="check">
              <input id="review-accept" type="radio" name="verdict" value="accept" required />
              <label for="review-accept">Accept: it was a justified emergency</label>
            </div>
            <div class="check">
              <input id="review-incident" type="radio" name="verdict" value="incident" required />
              <label for="review-incident">Raise an incident</label>
            </div>
          </fieldset>
          <label for="review-comment">Comment (required)</label>
          <textarea id="review-comment" name="comment" rows="2" maxlength={String(COMMENT_MAX)} required></textarea>
          <button type="submit">Record the review</button>
        </form>
      ) : (
        ''
      )}
    </section>
  );
}
