import type { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from './data-source.js';

/** The role the embedded database's server session runs as after migrating (PGlite has roles). */
export const EMBEDDED_SERVER_ROLE = 'gatehouse_server';

/** Tables the server may only read and append to: nobody rewrites history through Gatehouse. */
export const APPEND_ONLY_TABLES = ['audit_records', 'audit_checkpoints'];

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The user name in a postgres:// URL. */
export function roleOfUrl(url: string): string {
  const user = decodeURIComponent(new URL(url).username);
  if (!user) throw new Error('DATABASE_URL must name its user when DATABASE_MIGRATION_URL is set');
  return user;
}

/**
 * What the server's role may do, granted by the owner after each migration run (so new tables
 * are covered): read and write Gatehouse's tables, but on the audit tables only SELECT and
 * INSERT — no UPDATE, DELETE or TRUNCATE, and, not being their owner, no ALTER TABLE (so no
 * switching the append-only triggers off). audit_append runs with the caller's rights.
 */
export async function grantServerRole(owner: DataSource, role: string): Promise<void> {
  const r = ident(role);
  const tables = APPEND_ONLY_TABLES.map(ident).join(', ');
  await owner.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
  await owner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`);
  await owner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
  await owner.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${tables} FROM ${r}`);
  await owner.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${ident(MIGRATIONS_TABLE)} FROM ${r}`);
}

/**
 * The embedded database is one session as its superuser: after migrating it continues as
 * EMBEDDED_SERVER_ROLE, so no query of Gatehouse's (nor an injected one) can change the audit
 * tables. It is a guard, not a wall: PGlite has no passwords, and whoever can read the data
 * folder owns the database.
 */
export async function restrictEmbeddedSession(dataSource: DataSource): Promise<void> {
  await dataSource.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${EMBEDDED_SERVER_ROLE}') THEN
        CREATE ROLE ${EMBEDDED_SERVER_ROLE} NOLOGIN;
      END IF;
    END $$`);
  await grantServerRole(dataSource, EMBEDDED_SERVER_ROLE);
  await dataSource.query(`SET ROLE ${EMBEDDED_SERVER_ROLE}`);
}
