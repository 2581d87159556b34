import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import type { AppConfig } from '../config/config.schema.js';
import { MIGRATIONS_TABLE } from '../database/data-source.js';
import { TABLE_OWNERS } from '../database/table-owners.js';
import { ALGORITHM, keyPairFromPrivatePem, signPayload } from '../signing/signatures.js';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type BackupCheckpoint, type BackupHeader } from './backup-format.js';

/** Runs one statement on the connection that holds the snapshot. */
export type SnapshotQuery = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

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
  query: SnapshotQuery,
  options: { database: 'postgres' | 'embedded'; config: Pick<AppConfig, 'AUDIT_SIGNING_KEY_FILE'>; now: Date },
): AsyncGenerator<string> {
  const [migration] = await query<{ name: string }>(
    `SELECT name FROM ${ident(MIGRATIONS_TABLE)} ORDER BY timestamp DESC, id DESC LIMIT 1`,
  );
  if (!migration) throw new Error('The database has no Gatehouse schema (no migrations applied): nothing to back up');
  const tables = await restoreOrder(query);
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
