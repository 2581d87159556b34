import type { ChainedRecord } from '../../audit/audit-chain.js';
import type { DecisionRequestEntity } from '../../decisions/decision-request.entity.js';
import type { DeviceView } from '../../devices/devices.service.js';
import { formatAge, formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import { may } from '../nav.js';
import type { PageContext } from '../page-context.js';
import { deviceStateText } from './devices-page.js';
import { EndAccessForm } from './end-access-form.js';
import { DataTable, Fact, Notice } from './parts.js';

/** Revoke and reset, for those who may manage devices (the server checks the device's scope again). */
function DeviceActions(props: { ctx: PageContext; device: DeviceView }): JSX.Element {
  const { ctx, device } = props;
  if (!may(ctx.staff, 'manage', 'Device')) return '';
  const base = `/devices/${encodeURIComponent(device.id)}`;
  const csrf = ctx.csrfToken ?? '';
  return (
    <section class="card" aria-labelledby="manage">
      <h2 id="manage">Manage</h2>
      <div class="actions">
        {device.revoked ? (
          ''
        ) : (
          <form method="post" action={`${base}/revoke`}>
            <input type="hidden" name="_csrf" value={csrf} />
            <p class="hint">Its credential stops working at once; the device stays listed as revoked.</p>
            <button type="submit" class="danger">
              Revoke device
            </button>
          </form>
        )}
        <form method="post" action={`${base}/reset`}>
          <input type="hidden" name="_csrf" value={csrf} />
          <p class="hint">Removes the enrollment, so that the device can enroll again with a new token.</p>
          <button type="submit" class="secondary">
            Reset enrollment
          </button>
        </form>
      </div>
    </section>
  );
}

/** A device: what it is, its state, its latest requests and audit records. */
export function DevicePage(props: {
  ctx: PageContext;
  device: DeviceView;
  requests: DecisionRequestEntity[];
  audit: ChainedRecord[];
  notice?: string;
  /** This person may end the device's accesses (mayEndAccess: approvers in scope, administrators). */
  mayEnd?: boolean;
}): JSX.Element {
  const { ctx, device } = props;
  return (
    <Layout ctx={ctx} title={`Device ${device.id}`}>
      <Notice text={props.notice} />
      <section class="card" aria-labelledby="about">
        <h2 id="about">About</h2>
        <dl class="facts">
          <dt>Status</dt>
          <dd>{device.revoked ? <span class="status rejected">Revoked</span> : 'Active'}</dd>
          <Fact term="Model" value={device.model} />
          <Fact term="Serial number" value={device.serialNumber} />
          <Fact term="Site" value={device.site} />
          <Fact term="Groups" value={device.groups.join(', ')} />
          <Fact term="Agent version" value={device.agentVersion} />
          <Fact term="Actions it offers" value={device.actions.join(', ')} />
          <Fact term="Reported state" value={deviceStateText(device, ctx.now)} />
          <Fact term="Last seen" value={device.lastSeenAt ? formatAge(device.lastSeenAt, ctx.now) : 'never'} />
          <Fact term="Enrolled" value={formatTime(device.enrolledAt, ctx.timeZone)} />
        </dl>
      </section>
      {props.mayEnd ? (
        <EndAccessForm
          ctx={ctx}
          action={`/devices/${encodeURIComponent(device.id)}/end-access`}
          id="end-device"
          heading="End every live access"
          what="Ends every remote session not completed and every live grant on this device."
          button="End every live access"
        />
      ) : (
        ''
      )}
      <DeviceActions ctx={ctx} device={device} />
      <section class="card" aria-labelledby="requests">
        <h2 id="requests">Latest requests</h2>
        {props.requests.length === 0 ? (
          <p class="empty">This device has asked nothing yet.</p>
        ) : (
          <DataTable
            columns={['Asked', 'Action', 'Remote user', 'Status']}
            rows={props.requests}
            cells={(r) => [
              <td>
                {r.approval ? (
                  <a href={`/approvals/${r.requestId}`} safe>
                    {formatTime(r.createdAt, ctx.timeZone)}
                  </a>
                ) : (
                  <span safe>{formatTime(r.createdAt, ctx.timeZone)}</span>
                )}
              </td>,
              <td safe>{r.action}</td>,
              <td safe>{r.remoteUser.id}</td>,
              <td>
                <span class={`status ${r.status}`}>{r.status}</span>
              </td>,
            ]}
          />
        )}
      </section>
      <section class="card" aria-labelledby="trail">
        <h2 id="trail">Audit records</h2>
        {props.audit.length === 0 ? (
          <p class="empty">No audit record names this device.</p>
        ) : (
          <DataTable
            columns={['When', 'Event', 'Actor', 'Outcome']}
            rows={props.audit}
            cells={(a) => [
              <td safe>{formatTime(a.recordedAt, ctx.timeZone)}</td>,
              <td safe>{a.eventType}</td>,
              <td safe>{a.actorId ?? a.actorType}</td>,
              <td safe>{a.outcome}</td>,
            ]}
          />
        )}
      </section>
    </Layout>
  );
}
