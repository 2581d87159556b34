import type { AppConfig } from '../../config/config.schema.js';
import { guarded, skipped, type CheckResult } from './check.js';
import { checkConfiguration } from './config-check.js';
import { checkClock, checkDatabaseDurability, checkDatabaseRole, checkMigrations } from './database-checks.js';
import { openDoctorDatabase } from './database-session.js';
import { checkDirectoryConnection, checkLastSync, DIRECTORY_SYNC_TITLE } from './directory-checks.js';
import { checkDisk } from './disk-check.js';
import { checkPolicies } from './policy-check.js';
import { checkSiemReceivers, checkWebhook } from './receivers-check.js';
import { checkSmtp } from './smtp-check.js';
import { checkTls } from './tls-check.js';

/** A whole check group's bound: every network check has its own, shorter time-out inside. */
const GROUP_TIMEOUT_MS = 20_000;

const LABEL: Record<CheckResult['status'], string> = {
  ok: 'ok      ',
  warning: 'warning ',
  FAILED: 'FAILED  ',
  skipped: 'skipped ',
};

export function formatResult(r: CheckResult): string {
  return `${LABEL[r.status]}${r.title}: ${r.detail}${r.fix ? `. What to do: ${r.fix}.` : ''}`;
}

/** The checks that read the database, on doctor's own read-only connection. */
async function databaseChecks(config: AppConfig, now: Date): Promise<CheckResult[]> {
  const { db, results } = await openDoctorDatabase(config);
  if (!db) return results;
  try {
    for (const check of [
      () => checkDatabaseDurability(db, config),
      () => checkDatabaseRole(db, config),
      () => checkMigrations(db, config),
      () => checkClock(db),
      () => checkLastSync(db, config, now),
    ]) {
      results.push(
        ...(await guarded('Database', 'check the database server and DATABASE_URL', GROUP_TIMEOUT_MS, check)),
      );
    }
    return results;
  } finally {
    await db.close();
  }
}

/**
 * `doctor`: checks the installation as the server would use it and changes nothing: the
 * database is read on a read-only session and never migrated, the directory is only bound to,
 * SMTP only greeted, receivers only connected to. Returns 1 when any check FAILED.
 */
export async function runDoctor(
  env: NodeJS.ProcessEnv,
  print: (line: string) => void = (line) => console.log(line),
  now: Date = new Date(),
): Promise<number> {
  print('Gatehouse doctor: checking this installation (nothing is changed)');
  const all: CheckResult[] = [];
  const show = (results: CheckResult[]) => {
    for (const r of results) print(formatResult(r));
    all.push(...results);
  };
  const { config, results } = checkConfiguration(env);
  show(results);
  if (!config) {
    show([skipped('Other checks', 'they need a valid configuration: correct the settings above and run doctor again')]);
  } else {
    // The network checks run side by side while the database is read; printed in a fixed order.
    const remote = Promise.all([
      guarded('Directory', 'check the LDAP_* settings', GROUP_TIMEOUT_MS, () => checkDirectoryConnection(config)),
      guarded('E-mail (SMTP)', 'check SMTP_URL', GROUP_TIMEOUT_MS, () => checkSmtp(config)),
      guarded('Webhook', 'check WEBHOOK_URL', GROUP_TIMEOUT_MS, () => checkWebhook(config)),
      guarded('SIEM forwarding', 'check AUDIT_FORWARD_URLS', GROUP_TIMEOUT_MS, () => checkSiemReceivers(config)),
    ]);
    const database = await databaseChecks(config, now);
    // The last sync is read from the database, but shown with the directory's connection.
    const lastSync = database.filter((r) => r.title === DIRECTORY_SYNC_TITLE);
    show(database.filter((r) => r.title !== DIRECTORY_SYNC_TITLE));
    show(
      await guarded('Policy set', 'check POLICIES_DIR', GROUP_TIMEOUT_MS, () => Promise.resolve(checkPolicies(config))),
    );
    show(
      await guarded('TLS certificate', 'check TLS_CERT_FILE and TLS_KEY_FILE', GROUP_TIMEOUT_MS, () =>
        Promise.resolve(checkTls(config, now)),
      ),
    );
    const [directory, ...others] = await remote;
    show([...directory, ...lastSync]);
    for (const results of others) show(results);
    show(await guarded('Disk space', 'check GATEHOUSE_DATA_DIR', GROUP_TIMEOUT_MS, () => checkDisk(config)));
  }
  const count = (s: CheckResult['status']) => all.filter((r) => r.status === s).length;
  const failures = count('FAILED');
  print(
    `${failures} FAILED, ${count('warning')} warning(s), ${count('ok')} ok, ${count('skipped')} skipped: ` +
      (failures > 0
        ? 'Gatehouse cannot run safely until each FAILED line is fixed.'
        : 'everything Gatehouse needs is in place.'),
  );
  return failures > 0 ? 1 : 0;
}
