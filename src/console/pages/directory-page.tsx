import { counted } from '../plural.js';
import type { SyncRun } from '../../directory/directory-status.js';
import type { DirectorySyncService } from '../../directory/directory-sync.service.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import { may } from '../nav.js';
import type { PageContext } from '../page-context.js';

export type DirectoryStatus = Awaited<ReturnType<DirectorySyncService['status']>>;

function counts(run: SyncRun): string {
  if (!run.counts) return '';
  return Object.entries(run.counts)
    .map(([name, value]) => `${name} ${String(value)}`)
    .join(', ');
}

function RunFacts(props: { ctx: PageContext; run: SyncRun }): JSX.Element {
  const { run, ctx } = props;
  const result: string =
    run.outcome === 'success' ? `Succeeded (${run.kind}, ${run.trigger})` : `Failed (${run.kind}, ${run.trigger})`;
  return (
    <dl class="facts">
      <dt>Result</dt>
      <dd>
        <span class={`status ${run.outcome === 'success' ? 'approved' : 'rejected'}`} safe>
          {result}
        </span>
      </dd>
      <dt>Finished</dt>
      <dd safe>{`${formatTime(run.finishedAt, ctx.timeZone)} after ${(run.durationMs / 1000).toFixed(1)} s`}</dd>
      {run.counts ? (
        <>
          <dt>Counts</dt>
          <dd safe>{counts(run)}</dd>
        </>
      ) : (
        ''
      )}
      {run.error ? (
        <>
          <dt>Error</dt>
          <dd safe>{`${run.error.message} (check ${run.error.setting})`}</dd>
        </>
      ) : (
        ''
      )}
    </dl>
  );
}

/**
 * The live part: while a sync runs it asks again every second (htmx polling) and shows the
 * phase and what was read; once it has ended, the fragment it gets has no trigger left.
 */
export function SyncStatus(props: {
  ctx: PageContext;
  status: DirectoryStatus;
  /** A sync this page started (ms): watched until a run that began since then has ended. */
  since?: number;
}): JSX.Element {
  const { ctx, status, since } = props;
  const running = status.running;
  // Right after "sync now" the run may not have marked itself running yet: keep asking.
  const awaited = since !== undefined && !(status.lastRun && Date.parse(status.lastRun.startedAt) >= since);
  const poll = running !== null || awaited;
  const url = since !== undefined ? `/directory/status?since=${since}` : '/directory/status';
  const progress: string = running
    ? `A ${running.kind} sync is running (${running.phase}, ${counted(running.usersRead, 'user', 'users')} and ${counted(running.groupsRead, 'group', 'groups')} read): started ${formatTime(running.startedAt, ctx.timeZone)}.`
    : awaited
      ? 'The sync is starting…'
      : 'No sync is running.';
  return (
    <div
      id="sync-status"
      hx-get={poll ? url : undefined}
      hx-trigger={poll ? 'every 1s' : undefined}
      hx-swap="outerHTML"
    >
      <p role="status" aria-live="polite" safe>
        {progress}
      </p>
      <h3>Last sync</h3>
      {status.lastRun ? <RunFacts ctx={ctx} run={status.lastRun} /> : <p class="empty">No sync has run yet.</p>}
      {status.lastSuccess && status.lastRun?.outcome !== 'success' ? (
        <p class="muted" safe>{`Last success: ${formatTime(status.lastSuccess.finishedAt, ctx.timeZone)}`}</p>
      ) : (
        ''
      )}
    </div>
  );
}

/** The directory connection, its syncs, and "sync now". */
export function DirectoryPage(props: {
  ctx: PageContext;
  status: DirectoryStatus;
  notice?: string;
  since?: number;
}): JSX.Element {
  const { ctx, status } = props;
  const settings = status.settings;
  return (
    <Layout ctx={ctx} title="Directory">
      {props.notice ? (
        <p class="notice" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ''
      )}
      <section class="card" aria-labelledby="connection">
        <h2 id="connection">Connection</h2>
        {settings ? (
          <dl class="facts">
            <dt>Server</dt>
            <dd safe>{`${settings.url}${settings.startTls ? ' (StartTLS)' : ''}`}</dd>
            <dt>Base DN</dt>
            <dd safe>{settings.baseDn}</dd>
            <dt>Bind DN</dt>
            <dd safe>{settings.bindDn}</dd>
            <dt>Certificate checks</dt>
            <dd>{settings.certificateChecks ? 'on' : 'off'}</dd>
            <dt>Schedule</dt>
            <dd
              safe
            >{`incremental every ${settings.incrementalSyncMinutes} min, full every ${settings.fullSyncMinutes} min`}</dd>
          </dl>
        ) : (
          <p class="empty">No directory is configured (LDAP_URL): only local users sign in.</p>
        )}
        {status.warnings.length > 0 ? (
          <ul class="notice error">
            {status.warnings.map((w) => (
              <li safe>{w}</li>
            ))}
          </ul>
        ) : (
          ''
        )}
      </section>
      <section class="card" aria-labelledby="syncs">
        <h2 id="syncs">Syncs</h2>
        <SyncStatus ctx={ctx} status={status} since={props.since} />
        {settings && may(ctx.staff, 'manage', 'Directory') ? (
          <form method="post" action="/directory/sync" class="actions">
            <input type="hidden" name="_csrf" value={ctx.csrfToken ?? ''} />
            <button type="submit" name="kind" value="incremental">
              Sync now
            </button>
            <button type="submit" name="kind" value="full" class="secondary">
              Full sync now
            </button>
          </form>
        ) : (
          ''
        )}
      </section>
      <p>
        <a href="/users">Who has which role, and why</a>
      </p>
    </Layout>
  );
}
