import type { ApprovalDetail } from '../../approvals/approval-queue.js';
import { may } from '../nav.js';
import type { PageContext } from '../page-context.js';

/**
 * Approve, approve for N minutes (up to the rule's maximum), reject with a comment. Shown
 * only to those who may decide this request now; the server checks again on submit.
 */
export function DecisionForms(props: { ctx: PageContext; detail: ApprovalDetail }): JSX.Element {
  const { ctx, detail } = props;
  if (detail.status !== 'pending') return '';
  if (!may(ctx.staff, 'decide', 'Approval') || !detail.youMayDecide) {
    return (
      <p class="notice" safe>
        {detail.whyNot ?? 'You may not decide this request.'}
      </p>
    );
  }
  const csrf = ctx.csrfToken ?? '';
  const base = `/approvals/${detail.requestId}`;
  const maxGrant = detail.approval.maxGrantMinutes;
  return (
    <section class="card" aria-labelledby="decide">
      <h2 id="decide">Your decision</h2>
      <div class="actions">
        <form method="post" action={`${base}/approve`}>
          <input type="hidden" name="_csrf" value={csrf} />
          <label for="approve-comment">Comment (optional)</label>
          <input id="approve-comment" name="comment" maxlength="2000" />
          <button type="submit">Approve</button>
        </form>
        {maxGrant ? (
          <form method="post" action={`${base}/approve`}>
            <input type="hidden" name="_csrf" value={csrf} />
            <label for="grant-minutes" safe>
              {`Approve for minutes (at most ${maxGrant})`}
            </label>
            <input
              id="grant-minutes"
              name="grantMinutes"
              type="number"
              inputmode="numeric"
              min="1"
              max={String(maxGrant)}
              value={String(Math.min(30, maxGrant))}
              required
            />
            <button type="submit" class="secondary">
              Approve for these minutes
            </button>
          </form>
        ) : (
          ''
        )}
        <form method="post" action={`${base}/reject`}>
          <input type="hidden" name="_csrf" value={csrf} />
          <label for="reject-comment">Reason for rejecting</label>
          <textarea id="reject-comment" name="comment" maxlength="2000" rows="2"></textarea>
          <button type="submit" class="danger">
            Reject
          </button>
        </form>
      </div>
    </section>
  );
}
