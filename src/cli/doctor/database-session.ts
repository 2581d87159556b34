import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/config.schema.js';
import { dataSourceOptions } from '../../database/data-source.js';
import { EmbeddedPostgres } from '../../database/embedded-postgres.js';
import { embeddedMemoryOf } from '../../database/embedded-memory.js';
import { failed, ok, reason, warning, type CheckResult } from './check.js';

export const DATABASE_TITLE = 'Database';

/** Doctor's own database session: one connection, read-only, never migrated. */
export interface DoctorDatabase {
  kind: 'postgres' | 'embedded';
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * One read-only connection: `default_transaction_read_only` makes PostgreSQL itself refuse any
 * write doctor might attempt. Set with SET after connecting, not as a start-up option (which
 * PgBouncer refuses by default); the pool never drops the idle connection, so it holds for the run.
 */
export async function connectReadOnly(url: string | undefined, embedded?: EmbeddedPostgres): Promise<DataSource> {
  const base = dataSourceOptions({ DATABASE_URL: url, DATABASE_POOL_SIZE: 1 }, embedded);
  const extra = { ...(base.extra as object), max: 1, idleTimeoutMillis: 0 };
  const dataSource = new DataSource({ ...base, extra });
  await dataSource.initialize();
  try {
    await dataSource.query('SET SESSION default_transaction_read_only = on');
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

/** Why a connection to `setting`'s database failed, and what fixes it (by PostgreSQL's error code). */
export function connectionFailure(setting: string, error: unknown): CheckResult {
  const e = error as Error & { code?: string };
  const fixes: Record<string, string> = {
    '28000': `create that role on the PostgreSQL server (CREATE ROLE … LOGIN) or correct the user in ${setting}`,
    '28P01': `correct the password in ${setting} (or the role's password on the server)`,
    '3D000': `create the database (CREATE DATABASE …) or correct its name in ${setting}`,
    ECONNREFUSED: `start PostgreSQL, or correct the host and port in ${setting}`,
    ENOTFOUND: `correct the host name in ${setting}`,
  };
  return failed(
    DATABASE_TITLE,
    `cannot connect to ${setting}: ${e.message}`,
    fixes[e.code ?? ''] ??
      `check that PostgreSQL runs and accepts this host (pg_hba.conf), and the user, password, host, port and database in ${setting}`,
  );
}

/**
 * Opens the database for reading. The embedded one is opened only when it exists (doctor never
 * creates it) and no running server holds it: the embedded database serves one process, so
 * while the server runs, the checks that need it are skipped and this says so.
 */
export async function openDoctorDatabase(config: AppConfig): Promise<{ db?: DoctorDatabase; results: CheckResult[] }> {
  if (config.DATABASE_URL) {
    try {
      const dataSource = await connectReadOnly(config.DATABASE_URL);
      const [{ version }] = await dataSource.query<{ version: string }[]>(
        "SELECT current_setting('server_version') AS version",
      );
      return {
        db: { kind: 'postgres', dataSource, close: () => dataSource.destroy() },
        results: [ok(DATABASE_TITLE, `connected to DATABASE_URL (PostgreSQL ${version})`)],
      };
    } catch (error) {
      return { results: [connectionFailure('DATABASE_URL', error)] };
    }
  }
  const dir = resolve(config.GATEHOUSE_DATA_DIR);
  if (!existsSync(join(dir, 'pgdata', 'PG_VERSION'))) {
    return {
      results: [
        warning(
          DATABASE_TITLE,
          `no embedded database in GATEHOUSE_DATA_DIR (${dir}) yet, so its checks are skipped`,
          'none for a new installation (the first start creates it); otherwise point GATEHOUSE_DATA_DIR at the existing data folder',
        ),
      ],
    };
  }
  let embedded: EmbeddedPostgres;
  try {
    embedded = await EmbeddedPostgres.start(dir, 2, embeddedMemoryOf(config));
  } catch (error) {
    // The data folder's lock (src/database/embedded-postgres.ts) names a live holder: the running server.
    if (/in use by/.test(reason(error))) {
      return {
        results: [
          warning(
            DATABASE_TITLE,
            `the embedded database in GATEHOUSE_DATA_DIR (${dir}) is in use by the running Gatehouse, which checked it when it started; ` +
              'the checks that read it (durability, migrations, last directory sync) are skipped',
            'none needed; to check them, run doctor while Gatehouse is stopped (or use PostgreSQL, which doctor checks while the server runs)',
          ),
        ],
      };
    }
    return {
      results: [
        failed(
          DATABASE_TITLE,
          `cannot open the embedded database in GATEHOUSE_DATA_DIR (${dir}): ${reason(error)}`,
          'check that the folder belongs to the user Gatehouse runs as, and restore it from a backup if it is damaged',
        ),
      ],
    };
  }
  try {
    const dataSource = await connectReadOnly(undefined, embedded);
    return {
      db: {
        kind: 'embedded',
        dataSource,
        close: async () => {
          await dataSource.destroy();
          await embedded.stop();
        },
      },
      results: [ok(DATABASE_TITLE, `opened the embedded database in GATEHOUSE_DATA_DIR (${dir})`)],
    };
  } catch (error) {
    await embedded.stop();
    return {
      results: [
        failed(
          DATABASE_TITLE,
          `cannot read the embedded database in GATEHOUSE_DATA_DIR (${dir}): ${reason(error)}`,
          'restore the data folder from a backup',
        ),
      ],
    };
  }
}
