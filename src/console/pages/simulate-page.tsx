import type { SimulationResult } from '../../decisions/policy-simulator.js';
import { ACTION_CATALOGUE } from '../../policies/policy-schema.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';
import { TextField } from './parts.js';

/** The form's fields as sent (kept in the form after a run). */
export interface SimulateFields {
  deviceId: string;
  action: string;
  remoteUser: string;
  enterprise: string;
  groups: string;
  path: string;
  package: string;
  ticket: string;
  /** The ITSM's answer on the ticket: '' asks the configured ITSM live. */
  itsm: string;
  at: string;
}

const ITSM_ANSWERS: [string, string][] = [
  ['', 'Ask ServiceNow now'],
  ['confirmed', 'Confirmed'],
  ['refused', 'Refused'],
  ['unavailable', 'Unavailable (no answer)'],
];

function ItsmAnswer(props: { value: string }): JSX.Element {
  return (
    <div class="field">
      <label for="itsm">ITSM's answer on the ticket</label>
      <select id="itsm" name="itsm">
        {ITSM_ANSWERS.map(([value, text]) => (
          <option value={value} selected={value === props.value} safe>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

const SOURCES = { stated: 'as stated in the form', itsm: 'asked the ITSM now', none: 'nothing to ask' };

function Tickets(props: { tickets: NonNullable<SimulationResult['tickets']> }): JSX.Element {
  const t = props.tickets;
  return (
    <>
      <h3 safe>{`Ticket ${t.ticket ?? '(none)'}: ${SOURCES[t.source]}`}</h3>
      <ul id="ticket-verdicts">
        {t.verdicts.map((v) => (
          <li safe>{`${v.ruleId}: ${v.verdict}${v.reason ? ` (${v.reason})` : ''}`}</li>
        ))}
      </ul>
    </>
  );
}

function Result(props: { result: SimulationResult }): JSX.Element {
  const r = props.result;
  const approval: string = r.approval
    ? `${r.approval.required} of ${r.approval.approvers.join(', ')} within ${r.approval.timeoutMinutes} min`
    : '—';
  const tone = r.decision === 'allow' ? 'approved' : r.decision === 'pending' ? 'pending' : 'rejected';
  return (
    <section class="card" aria-labelledby="outcome" id="simulation-result">
      <h2 id="outcome">
        {'Decision: '}
        <span class={`status ${tone}`}>{r.decision === 'pending' ? 'ask (approval needed)' : r.decision}</span>
      </h2>
      <dl class="facts">
        <dt>Decided by</dt>
        <dd safe>{r.policies.length > 0 ? r.policies.join(', ') : `the default (${r.decidedBy})`}</dd>
        <dt>Device groups</dt>
        <dd safe>{r.deviceGroups.join(', ') || '—'}</dd>
        <dt>Approval</dt>
        <dd safe>{approval}</dd>
        <dt>Policy set</dt>
        <dd safe>{r.policyVersion.slice(0, 12)}</dd>
      </dl>
      {r.tickets ? <Tickets tickets={r.tickets} /> : ''}
      <h3>Rules that match</h3>
      {r.matching.length === 0 ? (
        <p class="empty">None.</p>
      ) : (
        <ul>
          {r.matching.map((m) => (
            <li safe>{`${m.ruleId} (${m.effect})`}</li>
          ))}
        </ul>
      )}
      <details>
        <summary safe>{`Rules that do not match, and why (${r.notMatching.length})`}</summary>
        <ul>
          {r.notMatching.map((m) => (
            <li safe>{`${m.ruleId} (${m.effect}): ${m.reason}`}</li>
          ))}
        </ul>
      </details>
    </section>
  );
}

/** "What if": a decision for any enrolled device and remote user at any time, recorded nowhere. */
export function SimulatePage(props: {
  ctx: PageContext;
  fields: SimulateFields;
  result?: SimulationResult;
  error?: string;
}): JSX.Element {
  const { ctx, fields } = props;
  return (
    <Layout ctx={ctx} title="What if…">
      <form method="get" action="/policies/simulate" class="filters" aria-label="Simulate a request">
        <TextField<SimulateFields> name="deviceId" label="Device id" fields={fields} />
        <div class="field">
          <label for="action">Action (from the catalogue, or x-…)</label>
          <input id="action" name="action" list="action-names" value={fields.action} required />
          <datalist id="action-names">
            {ACTION_CATALOGUE.map((a) => (
              <option value={a}></option>
            ))}
          </datalist>
        </div>
        <TextField<SimulateFields> name="remoteUser" label="Remote user id" fields={fields} />
        <TextField<SimulateFields> name="enterprise" label="Enterprise" fields={fields} />
        <TextField<SimulateFields> name="groups" label="Remote user's groups (comma-separated)" fields={fields} />
        <TextField<SimulateFields> name="path" label="Target path" fields={fields} />
        <TextField<SimulateFields> name="package" label="Target package" fields={fields} />
        <TextField<SimulateFields> name="ticket" label="Ticket (context.ticket)" fields={fields} />
        <ItsmAnswer value={fields.itsm} />
        <TextField<SimulateFields>
          name="at"
          label={`At (${ctx.timeZone}; empty: now)`}
          fields={fields}
          type="datetime-local"
        />
        <button type="submit">Simulate</button>
      </form>
      {props.error ? (
        <p class="notice error" role="alert" safe>
          {props.error}
        </p>
      ) : (
        ''
      )}
      {props.result ? <Result result={props.result} /> : ''}
    </Layout>
  );
}
