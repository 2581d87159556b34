import type { ChainedRecord } from '../../audit/audit-chain.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';
import { DataTable, SearchFold, TextField } from './parts.js';

/** The search form's fields as sent (kept in the form, and in the next page's link). */
export interface TrailFields {
  from: string;
  to: string;
  deviceId: string;
  remoteUser: string;
  actor: string;
  event: string;
  outcome: string;
  requestId: string;
}

/**
 * The records as a table; request ids lead to the request's story. `step`: a last column with
 * each record's place in a request's story (AuditStory's step).
 */
export function RecordsTable(props: {
  ctx: PageContext;
  records: (ChainedRecord & { step?: string })[];
  caption: string;
  step?: boolean;
}): JSX.Element {
  const { ctx } = props;
  return (
    <DataTable
      caption={props.caption}
      columns={[
        '#',
        'When',
        'Event',
        'Actor',
        'Device',
        'Remote user',
        'Outcome',
        'Request',
        props.step ? 'Step' : false,
      ]}
      rows={props.records}
      cells={(r) => [
        <td>{r.seq}</td>,
        <td safe>{formatTime(r.recordedAt, ctx.timeZone)}</td>,
        <td safe>{r.eventType}</td>,
        <td safe>{r.actorId ?? r.actorType}</td>,
        <td safe>{r.deviceId ?? '—'}</td>,
        <td safe>{r.remoteUser ?? '—'}</td>,
        <td safe>{r.outcome ?? '—'}</td>,
        <td>
          {r.requestId ? (
            <a href={`/audit/requests/${r.requestId}`} aria-label={`Story of request ${r.requestId}`} safe>
              {r.requestId.slice(0, 8)}
            </a>
          ) : (
            '—'
          )}
        </td>,
        props.step === true && <td safe>{r.step ?? '—'}</td>,
      ]}
    />
  );
}

/** The auditor's search of the trail, newest first, one page at a time. */
export function AuditPage(props: {
  ctx: PageContext;
  fields: TrailFields;
  records: ChainedRecord[];
  nextHref: string | null;
}): JSX.Element {
  const { ctx, fields } = props;
  return (
    <Layout ctx={ctx} title="Audit trail">
      <SearchFold filtered={Object.values(fields).some((value) => value !== '')}>
        <form method="get" action="/audit" class="filters" role="search" aria-label="Search the audit trail">
          <TextField<TrailFields> name="from" label={`From (${ctx.timeZone})`} fields={fields} type="datetime-local" />
          <TextField<TrailFields> name="to" label={`To (${ctx.timeZone})`} fields={fields} type="datetime-local" />
          <TextField<TrailFields> name="requestId" label="Request id" fields={fields} />
          <TextField<TrailFields> name="deviceId" label="Device id" fields={fields} />
          <TextField<TrailFields> name="remoteUser" label="Remote user" fields={fields} />
          <TextField<TrailFields> name="actor" label="Actor (person, device or system)" fields={fields} />
          <TextField<TrailFields> name="event" label="Event (e.g. decision, approval.vote)" fields={fields} />
          <TextField<TrailFields> name="outcome" label="Outcome (e.g. allowed, denied, failure)" fields={fields} />
          <button type="submit">Search</button>
        </form>
      </SearchFold>
      <p>
        <a href="/audit/chain">Chain verification</a>
      </p>
      {props.records.length === 0 ? (
        <p class="empty">No record matches.</p>
      ) : (
        <RecordsTable ctx={ctx} records={props.records} caption="Audit records" />
      )}
      {props.nextHref ? (
        <p>
          <a href={props.nextHref} rel="next">
            Older records
          </a>
        </p>
      ) : (
        ''
      )}
    </Layout>
  );
}
