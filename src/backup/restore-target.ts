import { existsSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.schema.js';
import { dataSourceOptions, MIGRATIONS_TABLE } from '../database/data-source.js';
import { EmbeddedPostgres } from '../database/embedded-postgres.js';
import { embeddedMemoryOf } from '../database/embedded-memory.js';
import { runMigrations } from '../database/migrate.js';
import { grantServerRole, roleOfUrl } from '../database/server-role.js';
import { TABLE_OWNERS } from '../database/table-owners.js';

/** Where a restore writes: an empty data folder or an empty PostgreSQL database, migrated. */
export interface RestoreTarget {
  /** For messages: the folder, or the database and the setting that names it. */
  description: string;
  dataSource: DataSource;
  /** After a good load: what the server's role needs (PostgreSQL with two roles). */
  finish(): Promise<void>;
  /** After a failed one: leave the target as empty as it was. */
  discard(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the target and migrates it to exactly `migrations` (the backup's schema), refusing
 * one that is not empty (nothing is changed then): a restore never mixes two Gatehouses' data.
 */
export async function openRestoreTarget(config: AppConfig, migrations: Function[]): Promise<RestoreTarget> {
  const target = config.DATABASE_URL ? await openPostgres(config, migrations) : await openEmbedded(config, migrations);
  try {
    await runMigrations(target.dataSource, { lock: config.DATABASE_URL !== undefined });
  } catch (error) {
    await target.discard();
    await target.close();
    throw error;
  }
  return target;
}

async function openEmbedded(config: AppConfig, migrations: Function[]): Promise<RestoreTarget> {
  const dir = resolve(config.GATEHOUSE_DATA_DIR);
  const existed = existsSync(dir);
  const entries = existed ? readdirSync(dir) : [];
  if (entries.length > 0) {
    throw new Error(
      `GATEHOUSE_DATA_DIR ${dir} is not empty (it holds ${entries.slice(0, 5).join(', ')}): restore needs an ` +
        'empty or new folder. Set GATEHOUSE_DATA_DIR to a new folder, or move this one away first (stop the ' +
        'Gatehouse that uses it). Nothing was changed.',
    );
  }
  const embedded = await EmbeddedPostgres.start(dir, 1, embeddedMemoryOf(config));
  const dataSource = new DataSource({ ...dataSourceOptions(config, embedded), migrations });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded.stop();
  };
  try {
    await dataSource.initialize();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    description: `the embedded database in ${dir}`,
    dataSource,
    finish: () => Promise.resolve(),
    async discard() {
      // We made everything in it: remove it, so that the folder can take the next attempt.
      await close();
      if (existed) for (const entry of readdirSync(dir)) rmSync(resolve(dir, entry), { recursive: true, force: true });
      else rmSync(dir, { recursive: true, force: true });
    },
    close,
  };
}

async function openPostgres(config: AppConfig, migrations: Function[]): Promise<RestoreTarget> {
  // The tables' owner loads them (it migrates them too); the server's role gets its grants after.
  const setting = config.DATABASE_MIGRATION_URL ? 'DATABASE_MIGRATION_URL' : 'DATABASE_URL';
  const url = config.DATABASE_MIGRATION_URL ?? config.DATABASE_URL!;
  // Two connections: runMigrations holds its lock on one and migrates on the other.
  const dataSource = new DataSource({
    ...dataSourceOptions({ ...config, DATABASE_URL: url, DATABASE_POOL_SIZE: 2 }),
    migrations,
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new Error(`Cannot connect to the database at ${setting}: ${(error as Error).message}`, { cause: error });
  }
  const [{ name }] = await dataSource.query<{ name: string }[]>('SELECT current_database() AS name');
  const description = `the database ${name} (${setting})`;
  try {
    await refuseNonEmpty(dataSource, description, migrations);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return {
    description,
    dataSource,
    async finish() {
      const serverRole = config.DATABASE_MIGRATION_URL ? roleOfUrl(config.DATABASE_URL!) : undefined;
      if (serverRole && serverRole !== roleOfUrl(url)) await grantServerRole(dataSource, serverRole);
    },
    // The rows went in one transaction that rolled back; the (empty) migrated tables may stay:
    // another attempt accepts them.
    discard: () => Promise.resolve(),
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}

/**
 * Empty: no Gatehouse table has a row, and no migration beyond the backup's was applied (a
 * database that `migrate` prepared is fine). Otherwise the error names the tables with rows.
 */
async function refuseNonEmpty(dataSource: DataSource, description: string, migrations: Function[]): Promise<void> {
  const present = await dataSource.query<{ name: string }[]>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname = ANY($1) ORDER BY 1`,
    [[...Object.keys(TABLE_OWNERS), MIGRATIONS_TABLE]],
  );
  const withRows: string[] = [];
  for (const { name } of present) {
    if (name === MIGRATIONS_TABLE) continue;
    const [row] = await dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM "${name}"`);
    if (Number(row.n) > 0) withRows.push(`${name} (${row.n} rows)`);
  }
  if (withRows.length > 0) {
    throw new Error(
      `${description} is not empty: ${withRows.join(', ')}. restore needs an empty database: create a new one ` +
        '(e.g. CREATE DATABASE gatehouse_restored OWNER gatehouse_owner) and point DATABASE_URL (and ' +
        'DATABASE_MIGRATION_URL) at it, or drop this one first if its data is not needed. Nothing was changed.',
    );
  }
  if (present.some((p) => p.name === MIGRATIONS_TABLE)) {
    const known = new Set(migrations.map(migrationName));
    const applied = await dataSource.query<{ name: string }[]>(`SELECT name FROM "${MIGRATIONS_TABLE}"`);
    const beyond = applied.filter((m) => !known.has(m.name)).map((m) => m.name);
    if (beyond.length > 0) {
      throw new Error(
        `${description} is migrated beyond the backup's schema (${beyond.join(', ')}): restore needs a new, ` +
          'empty database (the backup’s rows are of an older schema; the restored Gatehouse migrates them on at ' +
          'its start). Nothing was changed.',
      );
    }
  }
}

/** A migration's name as TypeORM records it. */
export function migrationName(migration: Function): string {
  const instance = new (migration as new () => { name?: string })();
  return instance.name ?? migration.name;
}
