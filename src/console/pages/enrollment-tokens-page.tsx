import type { EnrollmentTokenView } from '../../devices/enrollment-tokens.service.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import { may } from '../nav.js';
import type { PageContext } from '../page-context.js';
import { DataTable, Notice } from './parts.js';

/** A token that has just been made: its secret, this once, with a copy button (copy.js). */
export interface NewToken {
  id: string;
  token: string;
  expiresAt: Date;
}

function tokenState(t: EnrollmentTokenView, now: Date): string {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (t.uses >= t.maxUses) return 'used up';
  return 'live';
}

function ShownOnce(props: { created: NewToken; ctx: PageContext }): JSX.Element {
  return (
    <section class="card notice ok" aria-labelledby="new-token" tabindex="-1" id="new-token-section">
      <h2 id="new-token">New enrollment token</h2>
      <p>Copy it now: it is shown only this once (Gatehouse keeps only its hash).</p>
      <p class="hash" id="new-token-value" safe>
        {props.created.token}
      </p>
      <p>
        <button type="button" class="secondary" data-copy="new-token-value">
          Copy token
        </button>{' '}
        <span role="status" aria-live="polite" data-copy-status="new-token-value"></span>
      </p>
      <p class="muted" safe>
        {`Valid until ${formatTime(props.created.expiresAt, props.ctx.timeZone)}.`}
      </p>
    </section>
  );
}

function CreateForm(props: { ctx: PageContext }): JSX.Element {
  return (
    <section class="card" aria-labelledby="create">
      <h2 id="create">New token</h2>
      <form method="post" action="/enrollment-tokens" class="stack narrow">
        <input type="hidden" name="_csrf" value={props.ctx.csrfToken ?? ''} />
        <label for="deviceGroups">Device groups (comma-separated; empty: groups from the policy files only)</label>
        <input id="deviceGroups" name="deviceGroups" maxlength="2000" />
        <label for="expiresInHours">Valid for (hours)</label>
        <input id="expiresInHours" name="expiresInHours" type="number" min="1" max="2160" value="24" required />
        <label for="maxUses">Devices it may enroll</label>
        <input id="maxUses" name="maxUses" type="number" min="1" max="10000" value="1" required />
        <button type="submit">Create token</button>
      </form>
    </section>
  );
}

/** Enrollment tokens: create (shown once), the list without secrets, revoke. */
export function EnrollmentTokensPage(props: {
  ctx: PageContext;
  tokens: EnrollmentTokenView[];
  created?: NewToken;
  notice?: string;
}): JSX.Element {
  const { ctx, tokens } = props;
  const mayManage = may(ctx.staff, 'manage', 'EnrollmentToken');
  return (
    <Layout ctx={ctx} title="Enrollment tokens">
      <Notice text={props.notice} />
      {props.created ? <ShownOnce created={props.created} ctx={ctx} /> : ''}
      {mayManage ? <CreateForm ctx={ctx} /> : ''}
      <section aria-labelledby="tokens">
        <h2 id="tokens">Tokens</h2>
        {tokens.length === 0 ? (
          <p class="empty">No token yet. A field engineer needs one to enroll a device.</p>
        ) : (
          <DataTable
            columns={['Created', 'Groups', 'Uses', 'Valid until', 'State', mayManage && 'Revoke']}
            rows={tokens}
            rowAttributes={(t) => ({ 'data-token-id': t.id })}
            cells={(t) => {
              const state = tokenState(t, ctx.now);
              return [
                <td safe>{`${formatTime(t.createdAt, ctx.timeZone)} by ${t.createdBy}`}</td>,
                <td safe>{t.deviceGroups.join(', ') || '—'}</td>,
                <td safe>{`${t.uses} of ${t.maxUses}`}</td>,
                <td safe>{formatTime(t.expiresAt, ctx.timeZone)}</td>,
                <td safe>{state}</td>,
                mayManage && (
                  <td>
                    {state === 'live' ? (
                      <form method="post" action={`/enrollment-tokens/${t.id}/revoke`}>
                        <input type="hidden" name="_csrf" value={ctx.csrfToken ?? ''} />
                        <button
                          type="submit"
                          class="danger"
                          aria-label={`Revoke the token created ${formatTime(t.createdAt, ctx.timeZone)}`}
                        >
                          Revoke
                        </button>
                      </form>
                    ) : (
                      ''
                    )}
                  </td>
                ),
              ];
            }}
          />
        )}
      </section>
    </Layout>
  );
}
