import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import type { AppConfig } from '../config/config.schema.js';
import { MIGRATIONS_TABLE } from '../database/data-source.js';
import { TABLE_OWNERS } from '../database/table-owners.js';
import { ALGORITHM, keyPairFromPrivatePem, signPayload } from '../signing/signatures.js';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type BackupCheckpoint, type BackupHeader } from './backup-format.js';

/** Runs one statement on the connection that holds the snapshot. */
export type SnapshotQuery = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

/**
 * Where the lines are read: `query` in the snapshot. With `outside`, the snapshot ends before
 * the audit records are read, and they are read in short queries outside it (the embedded
 * database has one connection: decisions can go on in between). That is still the snapshot's
 * content: records are append-only, numbered in commit order, so those up to the snapshot's
 * head are exactly the ones it saw, and nothing changes them (pruning needs PostgreSQL).
 */
export interface SnapshotSource {
  query: SnapshotQuery;
  outside?: { endSnapshot(): Promise<void>; query: SnapshotQuery };
}

/** The table read outside the snapshot when the source allows it (see SnapshotSource). */
const APPEND_ONLY_RECORDS = 'audit_records';

/** Rows fetched from a table's cursor at a time: bounded memory for any table size. */
const FETCH_ROWS = 1000;

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Every line of a backup (see backup-format.ts), read through `query`, which must run inside
 * one REPEATABLE READ (or SERIALIZABLE) transaction: every table, the counts in the header and
 * the audit head all come from that one snapshot, so the backup is consistent while decisions
 * go on. Gatehouse's tables are the ones src/database/table-owners.ts maps.
 */
export async function* snapshotLines(
  source: SnapshotSource,
  options: { database: 'postgres' | 'embedded'; config: Pick<AppConfig, 'AUDIT_SIGNING_KEY_FILE'>; now: Date },
): AsyncGenerator<string> {
  const { query } = source;
  const [migration] = await query<{ name: string }>(
    `SELECT name FROM ${ident(MIGRATIONS_TABLE)} ORDER BY timestamp DESC, id DESC LIMIT 1`,
  );
  if (!migration) throw new Error('The database has no Gatehouse schema (no migrations applied): nothing to back up');
  const ordered = await restoreOrder(query);
  // Read outside the snapshot, so last (no foreign key involves the audit records).
  const deferred = source.outside && ordered.includes(APPEND_ONLY_RECORDS) ? APPEND_ONLY_RECORDS : undefined;
  const tables = deferred ? [...ordered.filter((t) => t !== deferred), deferred] : ordered;
  const counts: { name: string; rows: number }[] = [];
  for (const name of tables) {
    const [row] = await query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(name)}`);
    counts.push({ name, rows: Number(row.n) });
  }
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    createdAt: options.now.toISOString(),
    database: options.database,
    schemaVersion: migration.name,
    tables: counts,
    checkpoint: await signedHead(query, options.config, options.now),
  };
  yield JSON.stringify(header);
  for (const { name, rows } of counts) {
    if (name === deferred) break;
    yield JSON.stringify({ table: name, rows });
    const cursor = `backup_${name}`;
    const order = (await primaryKey(query, name)).map(ident).join(', ');
    await query(
      `DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT to_jsonb(t)::text AS row FROM ${ident(name)} t` +
        (order ? ` ORDER BY ${order}` : ''),
    );
    let sent = 0;
    for (;;) {
      const batch = await query<{ row: string }>(`FETCH ${FETCH_ROWS} FROM ${cursor}`);
      for (const { row } of batch) yield row;
      sent += batch.length;
      if (batch.length < FETCH_ROWS) break;
    }
    await query(`CLOSE ${cursor}`);
    // The snapshot cannot change under us; a mismatch is a bug, and a backup that says so.
    if (sent !== rows) throw new Error(`Table ${name}: counted ${rows} rows but read ${sent}`);
  }
  if (deferred && source.outside) {
    const { rows } = counts.at(-1)!;
    await source.outside.endSnapshot();
    yield JSON.stringify({ table: deferred, rows });
    yield* recordsUpTo(source.outside.query, header.checkpoint?.seq ?? 0, rows);
  }
}

/**
 * The audit records up to the snapshot's head, a range of seq numbers at a time (numbers are
 * consecutive but where records were pruned). Ranges, not LIMIT: the embedded database has no
 * autovacuum, so no statistics, and its planner would sort the whole rest of the table per page.
 */
async function* recordsUpTo(query: SnapshotQuery, headSeq: number, expected: number): AsyncGenerator<string> {
  const [first] = await query<{ seq: string | null }>('SELECT min(seq) AS seq FROM audit_records');
  let sent = 0;
  for (let after = Number(first?.seq ?? headSeq + 1) - 1; after < headSeq; after += FETCH_ROWS) {
    const batch = await query<{ row: string }>(
      `SELECT to_jsonb(t)::text AS row FROM audit_records t
       WHERE t.seq > $1::bigint AND t.seq <= least($1::bigint + $2::int, $3::bigint) ORDER BY t.seq`,
      [after, FETCH_ROWS, headSeq],
    );
    for (const { row } of batch) yield row;
    sent += batch.length;
  }
  // Records up to the head can only go by pruning (PostgreSQL only); say so rather than write less.
  if (sent !== expected)
    throw new Error(`audit_records: the snapshot counted ${expected} records but ${sent} are left`);
}

/**
 * Gatehouse's tables, parents before the tables whose foreign keys point at them, so that a
 * restore inserts them in file order with every constraint checked. Tables this schema
 * version does not have yet are left out.
 */
async function restoreOrder(query: SnapshotQuery): Promise<string[]> {
  const known = Object.keys(TABLE_OWNERS);
  const present = await query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)`,
    [known],
  );
  const tables = known.filter((t) => present.some((p) => p.name === t));
  const edges = await query<{ child: string; parent: string }>(
    `SELECT ch.relname AS child, pa.relname AS parent FROM pg_constraint k
     JOIN pg_class ch ON ch.oid = k.conrelid JOIN pg_class pa ON pa.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = ch.relnamespace
     WHERE k.contype = 'f' AND n.nspname = current_schema() AND ch.relname <> pa.relname`,
  );
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (table: string) => {
    if (ordered.includes(table)) return;
    if (visiting.has(table)) throw new Error(`Foreign keys form a cycle through ${table}: no insert order exists`);
    visiting.add(table);
    for (const e of edges) if (e.child === table && tables.includes(e.parent)) visit(e.parent);
    visiting.delete(table);
    ordered.push(table);
  };
  tables.forEach(visit);
  return ordered;
}

async function primaryKey(query: SnapshotQuery, table: string): Promise<string[]> {
  const rows = await query<{ column: string }>(
    `SELECT a.attname AS column FROM pg_index i
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
     WHERE i.indrelid = $1::regclass AND i.indisprimary
     ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [ident(table)],
  );
  return rows.map((r) => r.column);
}

/**
 * The audit chain's head in the snapshot, signed like a checkpoint (Ed25519 over the
 * canonical JSON of seq, hash, at and keyId) with the appliance's current key: the key in the
 * database, or AUDIT_SIGNING_KEY_FILE when the database holds only its public half. Unsigned
 * (seq and hash only) when that key is not at hand; null for an empty chain.
 */
async function signedHead(
  query: SnapshotQuery,
  config: Pick<AppConfig, 'AUDIT_SIGNING_KEY_FILE'>,
  now: Date,
): Promise<BackupCheckpoint> {
  const [head] = await query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1',
  );
  if (!head) return null;
  const point = { seq: Number(head.seq), hash: head.hash };
  const [key] = await query<{ key_id: string; private_key: string | null }>(
    'SELECT key_id, private_key FROM signing_keys WHERE algorithm = $1 AND retired_at IS NULL',
    [ALGORITHM],
  );
  if (!key) return point;
  let pem = key.private_key;
  if (!pem && config.AUDIT_SIGNING_KEY_FILE) {
    const file = keyPairFromPrivatePem(readFileSync(config.AUDIT_SIGNING_KEY_FILE, 'utf8'), 'AUDIT_SIGNING_KEY_FILE');
    if (file.keyId === key.key_id) pem = file.privateKey;
  }
  if (!pem) return point;
  const unsigned = { ...point, at: now.toISOString(), keyId: key.key_id };
  return { ...unsigned, signature: signPayload(unsigned, createPrivateKey(pem)) };
}
