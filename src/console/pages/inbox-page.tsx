import type { ApprovalSummary } from '../../approvals/approval-queue.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';
import { deviceLabel, DeviceState } from './request-parts.js';

/** One waiting request as a card: what, where, who, and the time left. */
function InboxItem(props: { item: ApprovalSummary; ctx: PageContext }): JSX.Element {
  const { item, ctx } = props;
  return (
    <li class="card" data-request-id={item.requestId}>
      <h2>
        <a href={`/approvals/${item.requestId}`} safe>
          {`${item.action} on ${deviceLabel(item)}`}
        </a>
        {item.youMayBreakGlass ? (
          <>
            {' '}
            <span class="muted">(you may break the glass)</span>
          </>
        ) : (
          ''
        )}
      </h2>
      <p safe>
        {`${item.remoteUser.id}${item.remoteUser.enterprise ? ` (${item.remoteUser.enterprise})` : ''}` +
          ` · ${item.approval.given} of ${item.approval.required} given`}
      </p>
      <p class="muted">
        <DeviceState item={item} now={ctx.now} />
      </p>
      <p class="muted">
        {'Expires '}
        <span safe>{formatTime(item.expiresAt, ctx.timeZone)}</span>
        {' · '}
        <time datetime={item.expiresAt ?? ''} data-countdown="" safe>
          {formatTime(item.expiresAt, ctx.timeZone)}
        </time>
      </p>
    </li>
  );
}

/** A break-glass allow that no other approver has reviewed yet, flagged "Needs review". */
function ReviewItem(props: { item: ApprovalSummary; ctx: PageContext }): JSX.Element {
  const { item, ctx } = props;
  const use = item.breakGlass!;
  return (
    <li class="card" data-review-id={item.requestId}>
      <h3>
        <a href={`/approvals/${item.requestId}`} safe>
          {`${item.action} on ${deviceLabel(item)}`}
        </a>{' '}
        <span class="flag">Needs review</span>
      </h3>
      <p safe>{`Break-glass by ${use.by} at ${formatTime(use.at, ctx.timeZone)}: “${use.reason}”`}</p>
    </li>
  );
}

/**
 * The list, also sent alone to htmx when an event says the queue changed; the badge and
 * the announcement ride along out of band.
 */
export function InboxList(props: {
  ctx: PageContext;
  items: ApprovalSummary[];
  more: boolean;
  toReview: ApprovalSummary[];
  /** Whether the badge and announcement ride along (fragments only: the page has its own). */
  oob: boolean;
}): JSX.Element {
  const { items, ctx } = props;
  const count = `${items.length}${props.more ? '+' : ''}`;
  // Said to screen readers on every change: plain English, not "1 request(s)".
  const one = items.length === 1 && !props.more;
  const announcement =
    items.length === 0 ? 'No requests waiting.' : `${count} ${one ? 'request' : 'requests'} waiting.`;
  return (
    <>
      {items.length === 0 ? (
        <p class="empty">Nothing waits for a decision. New requests appear here by themselves.</p>
      ) : (
        <ul class="cards">
          {items.map((item) => (
            <InboxItem item={item} ctx={ctx} />
          ))}
        </ul>
      )}
      {props.toReview.length === 0 ? (
        ''
      ) : (
        <section aria-labelledby="to-review">
          <h2 id="to-review">Break-glass to review</h2>
          <ul class="cards">
            {props.toReview.map((item) => (
              <ReviewItem item={item} ctx={ctx} />
            ))}
          </ul>
        </section>
      )}
      {props.oob ? (
        <>
          <span id="pending-badge" class="badge" aria-label="requests waiting" hx-swap-oob="true" safe>
            {items.length === 0 ? '' : count}
          </span>
          <p id="inbox-announce" class="muted" role="status" aria-live="polite" hx-swap-oob="true" safe>
            {announcement}
          </p>
        </>
      ) : (
        ''
      )}
    </>
  );
}

/**
 * The pending inbox. The section listens to the approvals event stream (htmx SSE
 * extension); any change re-reads the list, already filtered to the person's scope.
 */
export function InboxPage(props: {
  ctx: PageContext;
  items: ApprovalSummary[];
  more: boolean;
  toReview: ApprovalSummary[];
}): JSX.Element {
  return (
    <Layout ctx={props.ctx} title="Inbox">
      <p id="inbox-announce" class="muted" role="status" aria-live="polite"></p>
      <section aria-label="Waiting requests" hx-ext="sse" sse-connect="/approvals/live">
        {/* session-ended (logout, idle time-out): the re-read finds no session and htmx goes to sign-in, then back. */}
        <div
          id="inbox-list"
          hx-get="/approvals"
          hx-trigger="sse:approval, sse:resync, sse:session-ended"
          hx-swap="innerHTML"
        >
          <InboxList ctx={props.ctx} items={props.items} more={props.more} toReview={props.toReview} oob={false} />
        </div>
      </section>
    </Layout>
  );
}
