import type { ChainedRecord } from '../../audit/audit-chain.js';
import type { RequestStory, StoryStep } from '../../audit/audit-story.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';
import { RecordsTable } from './audit-page.js';
import { Fact } from './parts.js';

type StoryEvent = RequestStory['events'][number];

const detail = (r: ChainedRecord, key: string): unknown => (r.details as Record<string, unknown> | null)?.[key];
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

function targetText(target: unknown): string | null {
  if (!target || typeof target !== 'object') return null;
  return Object.entries(target)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
}

/** "12 min 5 s", for how long the work took. */
function duration(seconds: number | null): string | null {
  if (seconds === null) return null;
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function Asked(props: { ctx: PageContext; asked: StoryEvent }): JSX.Element {
  const { asked, ctx } = props;
  const context = detail(asked, 'context') as { ticket?: string; reason?: string } | null | undefined;
  return (
    <section class="card" aria-labelledby="asked">
      <h2 id="asked">Asked</h2>
      <dl class="facts">
        <Fact term="When" value={formatTime(asked.recordedAt, ctx.timeZone)} />
        <Fact term="Device" value={asked.deviceId} />
        <Fact term="Action" value={asked.action} />
        <Fact term="Remote user" value={asked.remoteUser} />
        <Fact term="Enterprise" value={text(detail(asked, 'enterprise'))} />
        <Fact term="Target" value={targetText(detail(asked, 'target'))} />
        <Fact term="Ticket" value={text(context?.ticket)} />
        <Fact term="Vendor's reason" value={text(context?.reason)} />
      </dl>
    </section>
  );
}

function Decided(props: { story: RequestStory; asked: StoryEvent | undefined }): JSX.Element {
  const { story, asked } = props;
  return (
    <section class="card" aria-labelledby="decided">
      <h2 id="decided">Rules and decision</h2>
      <dl class="facts">
        <dt>Status now</dt>
        <dd>
          {story.status ? (
            <span class={`status ${story.status}`} safe>
              {story.status}
            </span>
          ) : (
            'no longer stored'
          )}
        </dd>
        <Fact term="First answer" value={asked?.outcome} />
        <Fact term="Why" value={asked ? text(detail(asked, 'reason')) : null} />
        <Fact term="Rules" value={asked ? asked.ruleIds.join(', ') || 'the default' : null} />
        <Fact term="Policy version" value={asked?.policyVersion?.slice(0, 12)} />
        <Fact term="Approvers asked" value={asked?.approvers.join(', ')} />
      </dl>
    </section>
  );
}

function Votes(props: { ctx: PageContext; votes: StoryEvent[] }): JSX.Element {
  const { ctx } = props;
  return (
    <section class="card" aria-labelledby="votes">
      <h2 id="votes">Votes</h2>
      {props.votes.length === 0 ? (
        <p class="empty">No vote.</p>
      ) : (
        <ul>
          {props.votes.map((v) => {
            const vote = v.eventType === 'approval.approved' ? 'approve' : 'reject';
            const minutes = detail(v, 'grantMinutes');
            const comment = text(detail(v, 'comment'));
            return (
              <li safe>
                {`${v.actorId ?? '—'}: ${vote}${typeof minutes === 'number' ? ` for ${minutes} min` : ''} at ` +
                  `${formatTime(v.recordedAt, ctx.timeZone)} (${v.outcome ?? '—'})${comment ? ` — “${comment}”` : ''}`}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function GrantAndCompletion(props: { ctx: PageContext; story: RequestStory }): JSX.Element {
  const { ctx, story } = props;
  const of = (step: StoryStep) => story.events.filter((e) => e.step === step);
  const grant = of('grant')[0];
  const ended = of('grant-ended')[0];
  const repeats = of('repeat').length;
  const done = story.completion;
  return (
    <section class="card" aria-labelledby="grant">
      <h2 id="grant">Grant and completion</h2>
      <dl class="facts">
        <Fact
          term="Grant"
          value={
            grant
              ? `approved by ${grant.approvers.join(', ')}, until ${formatTime(text(detail(grant, 'expiresAt')), ctx.timeZone)}` +
                (ended ? `, ended ${formatTime(ended.recordedAt, ctx.timeZone)} by ${ended.actorId ?? '—'}` : '')
              : null
          }
        />
        <Fact term="Repeats under the grant" value={grant ? String(repeats) : null} />
        <Fact term="Completed" value={done ? formatTime(done.at, ctx.timeZone) : null} />
        <Fact term="Outcome reported" value={done?.outcome} />
        <Fact term="Work took" value={done ? duration(done.durationSeconds) : null} />
      </dl>
    </section>
  );
}

/**
 * Asked, rules, votes, grant, completion, then every record: the request's story as the API
 * tells it (GET /api/v1/audit/requests/{id}, AuditStory), read from the trail alone.
 */
export function RequestStoryPage(props: { ctx: PageContext; story: RequestStory }): JSX.Element {
  const { ctx, story } = props;
  const asked = story.events.find((e) => e.step === 'asked');
  return (
    <Layout ctx={ctx} title={`Request ${story.requestId}`}>
      <p>
        Intervention report: <a href={`/audit/requests/${story.requestId}/report?format=html`}>HTML</a>
        {' · '}
        <a href={`/audit/requests/${story.requestId}/report?format=pdf`}>PDF</a>
      </p>
      {asked ? (
        <Asked ctx={ctx} asked={asked} />
      ) : (
        <p class="notice">No decision record names this request: only the records below do.</p>
      )}
      <Decided story={story} asked={asked} />
      <Votes ctx={ctx} votes={story.events.filter((e) => e.step === 'vote')} />
      <GrantAndCompletion ctx={ctx} story={story} />
      <section aria-labelledby="records">
        <h2 id="records">Every record, oldest first</h2>
        <RecordsTable ctx={ctx} records={story.events} caption="Records of this request" step={true} />
      </section>
    </Layout>
  );
}
