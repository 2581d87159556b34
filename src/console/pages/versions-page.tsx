import type { ChainedRecord } from '../../audit/audit-chain.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

const SYSTEM_ACTORS: Record<string, string> = {
  start: 'Gatehouse at start',
  'file-change': 'a change of the files on disk',
  SIGHUP: 'a reload signal (SIGHUP)',
  replica: 'another replica',
};

function actorText(r: ChainedRecord): string {
  if (r.actorType === 'system') return SYSTEM_ACTORS[r.actorId ?? ''] ?? `system (${r.actorId ?? '—'})`;
  return r.actorId ?? r.actorType;
}

const listed = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/** One change: a policy version, or the console rule edit that made it (with the rule). */
function Change(props: { ctx: PageContext; record: ChainedRecord }): JSX.Element {
  const { record: r, ctx } = props;
  const d = r.details;
  const previous: string = typeof d.previousVersion === 'string' ? d.previousVersion.slice(0, 12) : 'none';
  const isVersion = r.eventType === 'policy.changed';
  const title = isVersion
    ? `Version ${(r.policyVersion ?? '').slice(0, 12)}`
    : `Console rule ${String(d.ruleId)} ${r.eventType.replace('policy.console_rule_', '')}`;
  return (
    <li class="card">
      <h2 safe>{title}</h2>
      <p class="muted" safe>{`${formatTime(r.recordedAt, ctx.timeZone)} · by ${actorText(r)}`}</p>
      {isVersion ? (
        <dl class="facts">
          <dt>Previous version</dt>
          <dd safe>{previous}</dd>
          <dt>Added</dt>
          <dd safe>{listed(d.added).join(', ') || '—'}</dd>
          <dt>Changed</dt>
          <dd safe>{listed(d.changed).join(', ') || '—'}</dd>
          <dt>Removed</dt>
          <dd safe>{listed(d.removed).join(', ') || '—'}</dd>
        </dl>
      ) : d.rule ? (
        <pre class="code" safe>
          {JSON.stringify(d.rule, null, 2)}
        </pre>
      ) : (
        ''
      )}
    </li>
  );
}

/** Policy versions with what changed from the one before, and the console edits, newest first. */
export function VersionsPage(props: { ctx: PageContext; records: ChainedRecord[]; nextBefore: number | null }) {
  return (
    <Layout ctx={props.ctx} title="Policy versions and changes">
      {props.records.length === 0 ? (
        <p class="empty">No change recorded yet.</p>
      ) : (
        <ul class="cards">
          {props.records.map((record) => (
            <Change ctx={props.ctx} record={record} />
          ))}
        </ul>
      )}
      {props.nextBefore !== null ? (
        <p>
          <a href={`/policies/versions?before=${props.nextBefore}`} rel="next">
            Older changes
          </a>
        </p>
      ) : (
        ''
      )}
    </Layout>
  );
}
