import type { RequestStory } from '../../decisions/request-story.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';
import { RecordsTable } from './audit-page.js';
import { Fact } from './parts.js';

/** Asked, rules, votes, grant, completion: the request's whole story, then every record of it. */
export function RequestStoryPage(props: { ctx: PageContext; requestId: string; story: RequestStory }): JSX.Element {
  const { ctx, story } = props;
  const r = story.request;
  const approval = r?.approval as { required?: number; approvers?: string[] } | null | undefined;
  return (
    <Layout ctx={ctx} title={`Request ${props.requestId}`}>
      <p>
        Intervention report: <a href={`/audit/requests/${props.requestId}/report?format=html`}>HTML</a>
        {' · '}
        <a href={`/audit/requests/${props.requestId}/report?format=pdf`}>PDF</a>
      </p>
      {r ? (
        <>
          <section class="card" aria-labelledby="asked">
            <h2 id="asked">Asked</h2>
            <dl class="facts">
              <Fact term="When" value={formatTime(r.createdAt, ctx.timeZone)} />
              <Fact term="Device" value={r.deviceId} />
              <Fact term="Device groups" value={r.deviceGroups.join(', ')} />
              <Fact term="Action" value={r.action} />
              <Fact term="Remote user" value={r.remoteUser.id} />
              <Fact term="Enterprise" value={r.remoteUser.enterprise} />
              <Fact
                term="Target"
                value={
                  r.target
                    ? Object.entries(r.target)
                        .map(([k, v]) => `${k} ${v}`)
                        .join(', ')
                    : null
                }
              />
              <Fact term="Ticket" value={r.context?.ticket} />
              <Fact term="Vendor's reason" value={r.context?.reason} />
            </dl>
          </section>
          <section class="card" aria-labelledby="decided">
            <h2 id="decided">Rules and decision</h2>
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <span class={`status ${r.status}`}>{r.status}</span>
              </dd>
              <Fact term="Why" value={r.reason} />
              <Fact term="Rules" value={r.ruleIds.join(', ') || 'the default'} />
              <Fact term="Policy version" value={r.policyVersion?.slice(0, 12)} />
              <Fact
                term="Approval needed"
                value={approval ? `${approval.required ?? 1} of ${(approval.approvers ?? []).join(', ')}` : null}
              />
              <Fact term="Decided" value={r.decidedAt ? formatTime(r.decidedAt, ctx.timeZone) : null} />
            </dl>
          </section>
          <section class="card" aria-labelledby="votes">
            <h2 id="votes">Votes</h2>
            {story.votes.length === 0 ? (
              <p class="empty">No vote.</p>
            ) : (
              <ul>
                {story.votes.map((v) => (
                  <li safe>
                    {`${v.username}: ${v.vote}${v.grantMinutes ? ` for ${v.grantMinutes} min` : ''} at ` +
                      `${formatTime(v.createdAt, ctx.timeZone)}${v.comment ? ` — “${v.comment}”` : ''}`}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section class="card" aria-labelledby="grant">
            <h2 id="grant">Grant and completion</h2>
            <dl class="facts">
              <Fact
                term="Grant"
                value={
                  story.grant
                    ? `until ${formatTime(story.grant.expiresAt, ctx.timeZone)}` +
                      (story.grant.endedAt
                        ? `, ended ${formatTime(story.grant.endedAt, ctx.timeZone)} by ${story.grant.endedBy ?? '—'}`
                        : '')
                    : null
                }
              />
              <Fact term="Completed" value={r.completedAt ? formatTime(r.completedAt, ctx.timeZone) : null} />
              <Fact term="Outcome reported" value={r.outcome ? JSON.stringify(r.outcome) : null} />
            </dl>
          </section>
        </>
      ) : (
        <p class="notice">Only audit records name this request (its decision row is gone or was never stored).</p>
      )}
      <section aria-labelledby="records">
        <h2 id="records">Every record, oldest first</h2>
        <RecordsTable ctx={ctx} records={story.records} caption="Records of this request" />
      </section>
    </Layout>
  );
}
