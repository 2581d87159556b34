import type { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../../migrations/index.js';
import type { AppConfig } from '../../config/config.schema.js';
import { MIGRATIONS_TABLE } from '../../database/data-source.js';
import { checkDurability } from '../../database/durability.js';
import { APPEND_ONLY_TABLES, roleOfUrl } from '../../database/server-role.js';
import { failed, ok, skipped, warning, type CheckResult } from './check.js';
import { connectionFailure, connectReadOnly, type DoctorDatabase } from './database-session.js';

/** fsync and synchronous_commit (src/database/durability.ts): off loses acknowledged decisions in a crash. */
export async function checkDatabaseDurability(db: DoctorDatabase, config: AppConfig): Promise<CheckResult> {
  const title = 'Database durability';
  if (db.kind === 'embedded') return ok(title, 'embedded database: it writes its own files (no settings to check)');
  const problems = await checkDurability(db.dataSource, true);
  if (problems.length === 0) return ok(title, 'fsync and synchronous_commit are on');
  const fix =
    "turn fsync and synchronous_commit on in DATABASE_URL's PostgreSQL (postgresql.conf, or ALTER DATABASE/ROLE … RESET synchronous_commit), then reload it";
  if (config.GATEHOUSE_ALLOW_UNSAFE_DURABILITY) {
    return warning(title, `${problems.join('; ')} (allowed by GATEHOUSE_ALLOW_UNSAFE_DURABILITY=true: labs only)`, fix);
  }
  return failed(title, `${problems.join('; ')}: Gatehouse refuses to start on it`, fix);
}

/** A standby (in recovery) is read-only: Gatehouse must write every decision. */
export async function checkDatabaseRole(db: DoctorDatabase, config: AppConfig): Promise<CheckResult[]> {
  if (db.kind === 'embedded') {
    return [
      skipped('Database roles', 'embedded database: the server continues as role gatehouse_server after migrating'),
    ];
  }
  const [{ standby }] = await db.dataSource.query<{ standby: boolean }[]>('SELECT pg_is_in_recovery() AS standby');
  if (standby) {
    return [
      failed(
        'Database server',
        'DATABASE_URL points at a read-only standby (it is in recovery): every decision would fail',
        "point DATABASE_URL at the primary, or at the virtual IP or pooler that follows it (replicas' only writable server)",
      ),
    ];
  }
  return [ok('Database server', 'DATABASE_URL is a primary (writable)'), ...(await checkRoles(db.dataSource, config))];
}

interface RoleFacts {
  role: string;
  superuser: boolean;
  migrated: boolean;
  owner: string | null;
  canRead: boolean;
  canInsert: boolean;
  canRewrite: boolean;
}

const ROLE_FACTS = `
  SELECT current_user AS role, r.rolsuper AS superuser, t.tableowner AS owner,
         t.tablename IS NOT NULL AS migrated,
         coalesce(has_table_privilege(t.tablename, 'SELECT'), false) AS "canRead",
         coalesce(has_table_privilege(t.tablename, 'INSERT'), false) AS "canInsert",
         coalesce(has_table_privilege(t.tablename, 'UPDATE') OR has_table_privilege(t.tablename, 'DELETE'), false)
           AS "canRewrite"
  FROM pg_roles r
  LEFT JOIN pg_tables t ON t.schemaname = current_schema() AND t.tablename = $1
  WHERE r.rolname = current_user`;

/**
 * DATABASE_URL's role may read and append the audit trail, and (with a separate owner,
 * DATABASE_MIGRATION_URL) not rewrite it; the owner's URL must work, as the server migrates with it.
 */
async function checkRoles(dataSource: DataSource, config: AppConfig): Promise<CheckResult[]> {
  const title = 'Database roles';
  const [audit] = APPEND_ONLY_TABLES;
  const [facts] = await dataSource.query<RoleFacts[]>(ROLE_FACTS, [audit]);
  const results: CheckResult[] = [];
  if (facts.superuser) {
    results.push(
      warning(
        title,
        `DATABASE_URL's role ${facts.role} is a superuser: it could switch off the audit trail's append-only protection`,
        'give Gatehouse roles of its own (README, Production: Database roles) and put them in DATABASE_URL and DATABASE_MIGRATION_URL',
      ),
    );
  }
  if (config.DATABASE_MIGRATION_URL) {
    const ownerRole = roleOfUrl(config.DATABASE_MIGRATION_URL);
    try {
      const owner = await connectReadOnly(config.DATABASE_MIGRATION_URL);
      await owner.destroy();
    } catch (error) {
      const failure = connectionFailure('DATABASE_MIGRATION_URL', error);
      return [
        ...results,
        { ...failure, title, detail: `${failure.detail} (Gatehouse migrates with it at every start)` },
      ];
    }
    if (facts.migrated && facts.owner !== ownerRole) {
      results.push(
        warning(
          title,
          `the tables are owned by ${facts.owner}, not by DATABASE_MIGRATION_URL's role ${ownerRole}`,
          "use the tables' owner in DATABASE_MIGRATION_URL (ALTER TABLE … OWNER TO changes it)",
        ),
      );
    }
  }
  if (!facts.migrated) {
    results.push(ok(title, `DATABASE_URL's role is ${facts.role}; no tables yet to check its rights on`));
    return results;
  }
  if (!facts.canRead || !facts.canInsert) {
    results.push(
      failed(
        title,
        `DATABASE_URL's role ${facts.role} may not read and add audit records (${audit}): the server cannot work`,
        config.DATABASE_MIGRATION_URL
          ? 'run `npm run gatehouse -- migrate` (as DATABASE_MIGRATION_URL it grants the server role its rights)'
          : 'connect DATABASE_URL as the role that owns the tables, or set DATABASE_MIGRATION_URL to it so it grants this role',
      ),
    );
  } else if (config.DATABASE_MIGRATION_URL && facts.canRewrite && !facts.superuser && facts.owner !== facts.role) {
    results.push(
      warning(
        title,
        `DATABASE_URL's role ${facts.role} may change or delete audit records`,
        'run `npm run gatehouse -- migrate`: as DATABASE_MIGRATION_URL it takes those rights away again',
      ),
    );
  } else if (!config.DATABASE_MIGRATION_URL) {
    results.push(
      warning(
        title,
        `DATABASE_URL's role ${facts.role} owns the tables, so it could rewrite the audit trail`,
        "give the server a role that owns nothing and set DATABASE_MIGRATION_URL to the owner's (README, Production: Database roles)",
      ),
    );
  } else if (results.length === 0) {
    results.push(
      ok(
        title,
        `DATABASE_URL's role ${facts.role} may read and append the audit trail, not rewrite it; the owner's connects`,
      ),
    );
  }
  return results;
}

/** Migrations this version has that the database lacks (doctor lists them; it never runs them). */
export async function checkMigrations(db: DoctorDatabase, config: AppConfig): Promise<CheckResult> {
  const title = 'Migrations';
  const known = MIGRATIONS.map((M) => new (M as new () => { name?: string })().name ?? M.name);
  const [{ exists }] = await db.dataSource.query<{ exists: boolean }[]>(
    'SELECT to_regclass($1) IS NOT NULL AS exists',
    [MIGRATIONS_TABLE],
  );
  const applied = exists
    ? (await db.dataSource.query<{ name: string }[]>(`SELECT name FROM ${MIGRATIONS_TABLE}`)).map((r) => r.name)
    : [];
  const pending = known.filter((name) => !applied.includes(name));
  const unknown = applied.filter((name) => !known.includes(name));
  const how = `Gatehouse applies them when it starts${config.DATABASE_MIGRATION_URL ? ' (as DATABASE_MIGRATION_URL)' : ''}, or run \`npm run gatehouse -- migrate\``;
  if (unknown.length > 0) {
    return warning(
      title,
      `the database has ${unknown.length} migration(s) this version does not know (${unknown.join(', ')}): a newer Gatehouse migrated it`,
      'run the newest Gatehouse version on every replica',
    );
  }
  if (applied.length === 0) {
    return warning(title, `the database has no Gatehouse tables yet (${pending.length} migrations to apply)`, how);
  }
  if (pending.length > 0) {
    return warning(title, `${pending.length} migration(s) not applied yet: ${pending.join(', ')}`, how);
  }
  return ok(title, `all ${known.length} migrations applied`);
}

const SKEW_WARN_MS = 2000;
const SKEW_FAIL_MS = 30_000;

/**
 * This machine's clock against the database's (`SELECT now()`, corrected by half the round trip):
 * decisions expire, grants end and approvals time out by the database's clock.
 */
export async function checkClock(db: DoctorDatabase): Promise<CheckResult> {
  const title = 'Clock';
  if (db.kind === 'embedded') return skipped(title, 'embedded database: it runs on this machine, on its clock');
  const before = Date.now();
  const [{ now }] = await db.dataSource.query<{ now: Date }[]>('SELECT now() AS now');
  const after = Date.now();
  const skew = new Date(now).getTime() - (before + after) / 2;
  const text = `this machine's clock is ${(Math.abs(skew) / 1000).toFixed(1)} s ${skew > 0 ? 'behind' : 'ahead of'} the database's (round trip ${after - before} ms)`;
  const fix =
    'synchronise this machine and the database server with the same NTP servers (chrony or systemd-timesyncd)';
  if (Math.abs(skew) > SKEW_FAIL_MS) return failed(title, `${text}: expiry times and time windows would be wrong`, fix);
  if (Math.abs(skew) > SKEW_WARN_MS) return warning(title, text, fix);
  return ok(title, text);
}
