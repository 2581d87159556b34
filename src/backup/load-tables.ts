import type { DataSource, QueryRunner } from 'typeorm';
import type { BackupHeader } from './backup-format.js';
import type { Progress } from './backup-file.js';

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The rows of one statement (TypeORM types a query runner's answer loosely). */
const rowsOf = <T>(runner: QueryRunner, sql: string, params?: unknown[]) => runner.query(sql, params) as Promise<T[]>;

/**
 * Inserts the backup's rows in one transaction (all or nothing), table by table in file order
 * (parents first), each batch with jsonb_populate_recordset: PostgreSQL reads its own JSON of
 * each row back into the row. Then moves every sequence past the restored values and checks
 * each table's count against the header. Returns the counts.
 */
export async function loadTables(
  dataSource: DataSource,
  header: BackupHeader,
  batches: AsyncIterable<{ table: string; rows: string[] }>,
  progress: Progress,
): Promise<Map<string, number>> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const expected = new Map(header.tables.map((t) => [t.name, t.rows]));
    const loaded = new Map<string, number>();
    const columns = new Map<string, string>();
    for await (const { table, rows } of batches) {
      if (!columns.has(table)) columns.set(table, (await insertableColumns(runner, table)).map(ident).join(', '));
      if (rows.length > 0) {
        const list = columns.get(table)!;
        await runner.query(
          `INSERT INTO ${ident(table)} (${list}) OVERRIDING SYSTEM VALUE ` +
            `SELECT ${list} FROM jsonb_populate_recordset(NULL::${ident(table)}, $1::jsonb)`,
          [`[${rows.join(',')}]`],
        );
      }
      const done = (loaded.get(table) ?? 0) + rows.length;
      loaded.set(table, done);
      progress(table, done, expected.get(table) ?? done);
    }
    await advanceSequences(runner, [...expected.keys()]);
    const counts = new Map<string, number>();
    for (const name of expected.keys()) {
      const [row] = await rowsOf<{ n: string }>(runner, `SELECT count(*) AS n FROM ${ident(name)}`);
      counts.set(name, Number(row.n));
      if (counts.get(name) !== expected.get(name)) {
        throw new Error(`table ${name} has ${row.n} rows after loading, the backup ${expected.get(name)}`);
      }
    }
    await runner.commitTransaction();
    return counts;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw error;
  } finally {
    await runner.release();
  }
}

/** The table's columns but generated ones (PostgreSQL computes those). */
async function insertableColumns(runner: QueryRunner, table: string): Promise<string[]> {
  const rows = await rowsOf<{ name: string }>(
    runner,
    `SELECT attname AS name FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
     ORDER BY attnum`,
    [ident(table)],
  );
  if (rows.length === 0) throw new Error(`table ${table} is not in this database's schema`);
  return rows.map((r) => r.name);
}

/**
 * Serial and identity columns: their sequences continue after the restored rows (the audit
 * chain continues from its head by itself: audit_append numbers after the last record).
 */
async function advanceSequences(runner: QueryRunner, tables: string[]): Promise<void> {
  const owned = await rowsOf<{ table: string; column: string; sequence: string }>(
    runner,
    `SELECT c.relname AS table, a.attname AS column, pg_get_serial_sequence(quote_ident(c.relname), a.attname) AS sequence
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = current_schema() AND c.relname = ANY($1)
       AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL`,
    [tables],
  );
  for (const s of owned) {
    await runner.query(
      `SELECT setval($1, coalesce(max(${ident(s.column)}), 1), max(${ident(s.column)}) IS NOT NULL) FROM ${ident(s.table)}`,
      [s.sequence],
    );
  }
}
