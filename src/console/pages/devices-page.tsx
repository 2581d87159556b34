import type { DeviceSearchQuery } from '../../devices/device-search.js';
import type { DeviceView } from '../../devices/devices.service.js';
import { formatAge } from '../console-time.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';
import { DataTable, nextPageHref, SearchFold } from './parts.js';

/** "In clinical use", "Idle" or why it is not known: a stale report counts as unknown. */
export function deviceStateText(device: DeviceView, now: Date): string {
  const inUse = device.state?.inUse;
  if (device.stateReportedAt === null || (inUse !== true && inUse !== false)) return 'State not reported';
  const age = `reported ${formatAge(device.stateReportedAt, now)}`;
  if (!device.stateFresh) return `Unknown (last ${age})`;
  return `${inUse ? 'In clinical use' : 'Idle'}, ${age}`;
}

/** The filters as the form sent them, for the form's values and the next page's link. */
export interface DeviceFilters {
  q: string;
  group: string;
  state: string;
  lastSeen: string;
  revoked: string;
}

const STATES: [string, string][] = [
  ['', 'Any state'],
  ['in-use', 'In clinical use'],
  ['idle', 'Idle'],
  ['unknown', 'Unknown or not reported'],
];
const LAST_SEEN: [string, string][] = [
  ['', 'Any time'],
  ['hour', 'In the last hour'],
  ['day', 'In the last 24 hours'],
  ['stale', 'Not for 24 hours'],
  ['never', 'Never'],
];
const REVOKED: [string, string][] = [
  ['no', 'Active only'],
  ['yes', 'Revoked only'],
  ['all', 'Active and revoked'],
];

function Select(props: { id: string; label: string; value: string; options: [string, string][] }): JSX.Element {
  return (
    <div class="field">
      <label for={props.id} safe>
        {props.label}
      </label>
      <select id={props.id} name={props.id}>
        {props.options.map(([value, text]) => (
          <option value={value} selected={value === props.value} safe>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

export function parseRevoked(value: string): DeviceSearchQuery['revoked'] {
  return value === 'all' ? undefined : value === 'yes';
}

/** Devices in the caller's scope: search, filters, one page at a time. */
export function DevicesPage(props: {
  ctx: PageContext;
  filters: DeviceFilters;
  groups: string[];
  devices: DeviceView[];
  nextCursor: string | null;
}): JSX.Element {
  const { ctx, filters, devices } = props;
  // "Active only" is what an unfiltered list shows.
  const filtered = Object.entries(filters).some(([name, value]) => value !== (name === 'revoked' ? 'no' : ''));
  return (
    <Layout ctx={ctx} title="Devices">
      <SearchFold filtered={filtered}>
        <form method="get" action="/devices" class="filters" role="search" aria-label="Find devices">
          <div class="field">
            <label for="q">Search (id, model, site, serial number)</label>
            <input id="q" name="q" type="search" value={filters.q} maxlength="200" />
          </div>
          <div class="field">
            <label for="group">Device group</label>
            <input id="group" name="group" list="group-names" value={filters.group} maxlength="100" />
            <datalist id="group-names">
              {props.groups.map((g) => (
                <option value={g}></option>
              ))}
            </datalist>
          </div>
          <Select id="state" label="Reported state" value={filters.state} options={STATES} />
          <Select id="lastSeen" label="Last seen" value={filters.lastSeen} options={LAST_SEEN} />
          <Select id="revoked" label="Revoked" value={filters.revoked} options={REVOKED} />
          <button type="submit">Find</button>
        </form>
      </SearchFold>
      {devices.length === 0 ? (
        <p class="empty">No device matches. Devices appear here once they enroll with a token.</p>
      ) : (
        <DataTable
          caption="Devices"
          columns={['Device', 'Model', 'Site', 'Groups', 'State', 'Last seen']}
          rows={devices}
          cells={(d) => [
            <th scope="row">
              <a href={`/devices/${encodeURIComponent(d.id)}`} safe>
                {d.id}
              </a>
              {d.revoked ? <span class="status rejected"> revoked</span> : ''}
            </th>,
            <td safe>{d.model}</td>,
            <td safe>{d.site ?? '—'}</td>,
            <td safe>{d.groups.join(', ') || '—'}</td>,
            <td safe>{deviceStateText(d, ctx.now)}</td>,
            <td>{d.lastSeenAt ? formatAge(d.lastSeenAt, ctx.now) : 'never'}</td>,
          ]}
        />
      )}
      {props.nextCursor ? (
        <p>
          <a href={nextPageHref('/devices', { ...filters }, { after: props.nextCursor })} rel="next">
            Next devices
          </a>
        </p>
      ) : (
        ''
      )}
    </Layout>
  );
}
