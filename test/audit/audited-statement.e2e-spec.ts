import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { normalizeEvent } from '../../src/audit/audit-chain.js';
import { auditedStatement, contentLines } from '../../src/audit/audit-writer.js';
import { verifyAuditChain } from '../../src/audit/audit-verifier.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The audit module's way for another module to chain records onto its one-statement write. */
describe('auditedStatement', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const lines = (...names: string[]) =>
    contentLines(
      names.map((name) => normalizeEvent({ eventType: 'test.audited', actorType: 'system', details: { name } })),
    );
  const recorded = () =>
    t.database.dataSource.query<{ name: string }[]>(
      "SELECT details->>'name' AS name FROM audit_records WHERE event_type = 'test.audited' ORDER BY seq",
    );

  it('appends the records the write asks for, after it, in one statement, and returns the write’s rows', async () => {
    const statement = auditedStatement(
      'SELECT n FROM generate_series(1, 3) AS n',
      // Only the records of the rows written: the contents read `written`.
      `ARRAY(SELECT c FROM unnest(string_to_array($1, E'\\n')) WITH ORDINALITY AS u(c, i)
         WHERE u.i IN (SELECT n FROM written WHERE n <> 2) ORDER BY u.i)`,
      '$2',
    );
    const rows = await t.database.dataSource.query<{ n: number }[]>(statement, [
      lines('one', 'two', 'three'),
      new Date().toISOString(),
    ]);
    expect(rows.map((r) => r.n)).toEqual([1, 2, 3]);
    expect((await recorded()).map((r) => r.name)).toEqual(['one', 'three']);
    expect((await verifyAuditChain(t.database.dataSource)).ok).toBe(true);
  });

  it('appends even when the write returns no row (one row of NULLs comes back)', async () => {
    const statement = auditedStatement('SELECT n FROM generate_series(1, 0) AS n', "string_to_array($1, E'\\n')", '$2');
    const rows = await t.database.dataSource.query<{ n: number | null }[]>(statement, [
      lines('four'),
      new Date().toISOString(),
    ]);
    expect(rows).toEqual([{ n: null }]);
    expect((await recorded()).map((r) => r.name)).toEqual(['one', 'three', 'four']);
  });

  it('writes nothing when the append fails: the write and its records commit together', async () => {
    await t.database.dataSource.query('CREATE TABLE audited_probe (n int)');
    await t.database.dataSource.query(
      `CREATE FUNCTION audited_probe_write() RETURNS SETOF int LANGUAGE sql AS
         'INSERT INTO audited_probe VALUES (1) RETURNING n'`,
    );
    const statement = auditedStatement('SELECT n FROM audited_probe_write() AS n', "ARRAY['not json']", '$1');
    await expect(t.database.dataSource.query(statement, [new Date().toISOString()])).rejects.toThrow(/json/i);
    expect(await t.database.dataSource.query('SELECT * FROM audited_probe')).toEqual([]);
  });
});
