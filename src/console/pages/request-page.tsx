import type { ApprovalDetail } from '../../approvals/approval-queue.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';
import { deviceLabel, DeviceState } from './request-parts.js';
import { DecisionForms } from './decision-forms.js';
import { BreakGlassForm, BreakGlassReview, type BreakGlassAttempt } from './break-glass-forms.js';
import { EndAccessForm } from './end-access-form.js';

/** "Already approved by alice, bob": who settled a request that is no longer pending. */
export function decidedBy(detail: ApprovalDetail): string {
  const vote = detail.status === 'approved' ? 'approve' : detail.status === 'rejected' ? 'reject' : null;
  const names = vote ? detail.votes.filter((v) => v.vote === vote).map((v) => v.username) : [];
  if (names.length > 0) return `Already ${detail.status} by ${names.join(', ')}`;
  return `This request is ${detail.status}`;
}

function Fact(props: { term: string; value: string | null | undefined }): JSX.Element {
  return (
    <>
      <dt safe>{props.term}</dt>
      <dd safe>{props.value || '—'}</dd>
    </>
  );
}

/** What an approver weighs most, at a glance, then the decision, then the rest of the request. */
export function RequestPage(props: {
  ctx: PageContext;
  detail: ApprovalDetail;
  notice?: string;
  /** Its session or grant is live and this person may end it (mayEndAccess). */
  mayEnd?: boolean;
  /** A break-glass form the server refused, shown again with what was wrong. */
  breakGlass?: BreakGlassAttempt;
}): JSX.Element {
  const { ctx, detail } = props;
  const me = ctx.staff?.user.username;
  const others = detail.eligibleApprovers.filter((name) => name !== me);
  const target = detail.target ?? {};
  return (
    <Layout ctx={ctx} title={`${detail.action} on ${deviceLabel(detail)}`}>
      {props.notice ? (
        <p class="notice" role="status" id="decision-notice" tabindex="-1" data-focus-on-load="" safe>
          {props.notice}
        </p>
      ) : (
        ''
      )}
      {detail.status !== 'pending' ? (
        <p class="notice ok" role="status" id="decided" safe>
          {decidedBy(detail)}
        </p>
      ) : (
        ''
      )}
      {/* What an approver at the bedside decides on, then the decision: on a phone the buttons
          are on the first screen. The rest of the facts and the answers so far come after. */}
      <section class="card" aria-labelledby="what">
        <h2 id="what">What is asked</h2>
        <dl class="facts key">
          <dt>Status</dt>
          <dd>
            <span class={`status ${detail.status}`}>{detail.status}</span>
            {detail.breakGlass?.needsReview ? (
              <>
                {' '}
                <span class="flag">Break-glass, needs review</span>
              </>
            ) : (
              ''
            )}
            {detail.status === 'pending' ? (
              <>
                {' · '}
                <time datetime={detail.expiresAt ?? ''} data-countdown="" safe>
                  {formatTime(detail.expiresAt, ctx.timeZone)}
                </time>
              </>
            ) : (
              ''
            )}
          </dd>
          <Fact term="Action" value={detail.action} />
          <Fact term="Device" value={deviceLabel(detail)} />
          <dt>Device state</dt>
          <dd>
            <DeviceState item={detail} now={ctx.now} />
          </dd>
          <Fact
            term="Remote user"
            value={[detail.remoteUser.id, detail.remoteUser.enterprise && `(${detail.remoteUser.enterprise})`]
              .filter(Boolean)
              .join(' ')}
          />
          <Fact term="Target path" value={target.path} />
          <Fact term="Package" value={target.package} />
          <Fact term="Vendor's reason" value={detail.vendorReason} />
          <Fact term="Ticket" value={detail.ticket} />
          <Fact term="Approvals" value={`${detail.approval.given} of ${detail.approval.required} given`} />
          <Fact term="Still needed" value={String(detail.approval.stillNeeded)} />
        </dl>
      </section>
      <BreakGlassReview ctx={ctx} detail={detail} />
      <DecisionForms ctx={ctx} detail={detail} />
      <BreakGlassForm ctx={ctx} detail={detail} attempt={props.breakGlass} />
      {props.mayEnd ? (
        <EndAccessForm
          ctx={ctx}
          action={`/approvals/${detail.requestId}/end-access`}
          id="end"
          heading="End this access now"
          what="Ends what this request allowed: its remote session if not completed, and its grant."
          button="End this access now"
        />
      ) : (
        ''
      )}
      <section class="card" aria-labelledby="details">
        <h2 id="details">More about this request</h2>
        <dl class="facts">
          <Fact term="Site" value={detail.device.site} />
          <Fact term="Device groups" value={detail.device.groups.join(', ')} />
          <dt>Package SHA-256</dt>
          <dd class="hash" safe>
            {target.sha256 || '—'}
          </dd>
          <Fact term="Rules that asked" value={detail.rules.join(', ') || 'default'} />
          <Fact term="Asked at" value={formatTime(detail.createdAt, ctx.timeZone)} />
          <Fact term="Expires at" value={formatTime(detail.expiresAt, ctx.timeZone)} />
          <Fact term="Who else may decide" value={others.join(', ') || 'nobody else'} />
        </dl>
      </section>
      <section class="card" aria-labelledby="votes">
        <h2 id="votes">Answers so far</h2>
        {detail.votes.length === 0 ? (
          <p class="empty">No answer yet.</p>
        ) : (
          <ul>
            {detail.votes.map((v) => (
              <li safe>
                {`${v.username}: ${v.vote}${v.grantMinutes ? ` for ${v.grantMinutes} min` : ''} at ` +
                  `${formatTime(v.at, ctx.timeZone)}${v.comment ? ` — “${v.comment}”` : ''}`}
              </li>
            ))}
          </ul>
        )}
      </section>
    </Layout>
  );
}
