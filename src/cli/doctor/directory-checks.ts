import type { AppConfig } from '../../config/config.schema.js';
import { directorySettings } from '../../directory/directory-settings.js';
import { readStatus } from '../../directory/directory-status.js';
import { classifyDirectoryError, DirectoryErrorCode } from '../../directory/directory.errors.js';
import { closeQuietly, openServiceConnection } from '../../directory/ldap-connection.js';
import { failed, ok, skipped, warning, type CheckResult } from './check.js';
import type { DoctorDatabase } from './database-session.js';

const TITLE = 'Directory';
export const DIRECTORY_SYNC_TITLE = 'Directory sync';
const SYNC_TITLE = DIRECTORY_SYNC_TITLE;

const FIXES: Record<string, string> = {
  [DirectoryErrorCode.Unreachable]:
    'check the host and port in LDAP_URL, that the domain controller runs, and that the firewall lets this machine reach it',
  [DirectoryErrorCode.Certificate]:
    "set LDAP_CA_FILE to the CA that issued the directory's certificate, and LDAP_TLS_SERVERNAME to the name it carries",
  [DirectoryErrorCode.ServiceBind]:
    'correct LDAP_BIND_DN and LDAP_BIND_PASSWORD (the service account), or unlock it in AD',
  [DirectoryErrorCode.Timeout]:
    'check the network path to LDAP_URL, or raise LDAP_CONNECT_TIMEOUT_MS / LDAP_TIMEOUT_MS',
};

/**
 * Connects and binds as the service account, as `directory:test` and every sync do
 * (src/directory/ldap-connection.ts), and unbinds: nothing is read or written.
 */
export async function checkDirectoryConnection(config: AppConfig): Promise<CheckResult> {
  const settings = directorySettings(config);
  if (!settings) return skipped(TITLE, 'not configured (LDAP_URL unset): local users only');
  try {
    const client = await openServiceConnection(settings);
    await closeQuietly(client);
  } catch (error) {
    const problem = classifyDirectoryError(error, 'connect', settings);
    return failed(
      TITLE,
      problem.message,
      FIXES[problem.code] ?? 'run `npm run gatehouse -- directory:test` for details and check the LDAP_* settings',
    );
  }
  return ok(TITLE, `connected to LDAP_URL (${settings.url}) and bound as LDAP_BIND_DN (${settings.bindDn})`);
}

/** The last sync as the server recorded it (the settings table): failed, stale, or never run. */
export async function checkLastSync(db: DoctorDatabase, config: AppConfig, now: Date): Promise<CheckResult> {
  const settings = directorySettings(config);
  if (!settings) return skipped(SYNC_TITLE, 'not configured (LDAP_URL unset)');
  const [{ exists }] = await db.dataSource.query<{ exists: boolean }[]>(
    "SELECT to_regclass('settings') IS NOT NULL AS exists",
  );
  const status = exists ? await readStatus(db.dataSource) : undefined;
  const last = status?.lastRun;
  if (!last) {
    return warning(
      SYNC_TITLE,
      'no directory sync has run yet, so directory users cannot sign in',
      'start Gatehouse (it syncs at start), or run a sync from the console (Directory page)',
    );
  }
  if (last.outcome === 'failure') {
    return warning(
      SYNC_TITLE,
      `the last sync, at ${last.finishedAt}, failed: ${last.error?.message ?? 'no reason recorded'}`,
      last.error?.code && FIXES[last.error.code]
        ? FIXES[last.error.code]
        : `check ${last.error?.setting ?? 'the LDAP_* settings'} (\`npm run gatehouse -- directory:test\` shows details)`,
    );
  }
  // Two missed runs of the most frequent schedule: the schedule itself is not running.
  const everyMinutes = Math.min(...[settings.fullSyncMinutes, settings.incrementalSyncMinutes].filter((m) => m > 0));
  const ageMinutes = Math.round((now.getTime() - new Date(last.finishedAt).getTime()) / 60_000);
  if (Number.isFinite(everyMinutes) && ageMinutes > 2 * everyMinutes) {
    return warning(
      SYNC_TITLE,
      `the last sync finished ${ageMinutes} minutes ago, though one is due every ${everyMinutes} (LDAP_INCREMENTAL_SYNC_MINUTES / LDAP_FULL_SYNC_MINUTES)`,
      'check that Gatehouse runs, and its log for directory errors',
    );
  }
  return ok(SYNC_TITLE, `last sync (${last.kind}) succeeded ${ageMinutes} minute(s) ago`);
}
