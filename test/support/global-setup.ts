import './resolve-ts-extensions.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../src/database/database.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { assertSambaInstalled, startSambaDc, writeSambaInfo } from './samba-dc.js';
import { ensureSystemPackages } from './system-packages.js';
import { adminQuery, TEST_ADMIN_URL, urlFor } from './test-db.js';

/**
 * Once per test run: a migrated template database on the machine's PostgreSQL (each
 * test file copies it), and one Samba AD domain controller on loopback for the
 * directory tests. Worker processes find both through environment variables.
 */
export default async function globalSetup(): Promise<void> {
  ensureSystemPackages();
  await prepareTemplateDatabase();
  await startDirectory();
}

async function prepareTemplateDatabase(): Promise<void> {
  try {
    await adminQuery('SELECT 1');
  } catch (error) {
    process.stderr.write(
      `\n[gatehouse tests] No PostgreSQL at ${TEST_ADMIN_URL} (${(error as Error).message}).\n` +
        '  Database tests run on the embedded PGlite instead. Set TEST_DATABASE_URL to use another server.\n',
    );
    return;
  }
  // Leftovers of runs that were killed (their process is gone); other runs may be going on.
  const ours = await adminQuery<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname ~ '^gatehouse_(tpl|test)_[0-9]+'`,
  );
  for (const { datname } of ours) {
    if (!isAlive(Number(/_(\d+)/.exec(datname)![1])))
      await adminQuery(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  }

  const template = `gatehouse_tpl_${process.pid}`;
  await adminQuery(`CREATE DATABASE ${template}`);
  const db = await Database.open(loadConfig({ DATABASE_URL: urlFor(template) }), { migrate: true });
  await db.close();
  process.env.GATEHOUSE_TEST_TEMPLATE = template;
  process.env.GATEHOUSE_TEST_RUN = String(process.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startDirectory(): Promise<void> {
  // Developer switch for quick runs of non-directory tests while another run holds the one DC a
  // machine can have. Directory tests then FAIL (they say why); CI never sets it.
  if (process.env.GATEHOUSE_TEST_DIRECTORY === 'off') return;
  assertSambaInstalled();
  const dc = await startSambaDc();
  const file = join(tmpdir(), `gatehouse-samba-info-${process.pid}.json`);
  await writeSambaInfo(dc, file);
  process.env.GATEHOUSE_TEST_SAMBA_INFO = file;
}
