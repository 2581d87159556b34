import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendBulkRecords } from '../../bench/audit-bulk.js';
import { AuditExport, COPY_ROWS } from '../../src/audit/audit-export.js';
import { verifyExportFile } from '../../src/audit/audit-file-verifier.js';
import { copyOut } from '../../src/audit/export-copy.js';
import type { AuditExportQuery } from '../../src/audit/audit-search.dto.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { login, startTestApp, type TestApp } from '../support/test-app.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-export-copy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The whole export as bytes, whichever way it was made. */
async function bytesOf(pieces: AsyncIterable<string | Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of pieces) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}

/** Text that CSV, JSON, COPY's text format and a byte-wise writer could each get wrong. */
const AWKWARD = [
  'back\\slash \\\\ \\n \\"',
  'quote " and "" and \'',
  'line one\nline two\r\nthree\rfour',
  'tab\there, \u0001\u0008\u000c\u001f\u007f',
  'Grüße ✓ 日本語 𝄞 \u2028\u2029',
  '=HYPERLINK("http://evil.example","click")',
  '-2+3',
  '+1',
  '@SUM(A1:A9)',
  '\tstarts with a tab',
  '\rstarts with CR',
  ',',
  '',
  'comma, "quoted"',
];

/**
 * The COPY export (PostgreSQL) against the batch path it replaced (the embedded database's,
 * whose bytes are the format's reference): the same bytes for both formats, over records that
 * hold every awkward value in every text field, in details and in the lists, and over more
 * than two COPYs (COPY_ROWS records each).
 */
describe('audit export by COPY: the same bytes as the batch path', () => {
  let t: TestApp;
  let exporter: AuditExport;
  // An hour ahead: the awkward records before and after it in seq are all before it in time.
  const bulkAt = new Date(Date.now() + 3_600_000);
  const bulk = 2 * COPY_ROWS + 123;

  beforeAll(async () => {
    t = await startTestApp();
    exporter = t.app.get(AuditExport);
    const audit = t.app.get(AuditService);
    const awkward = async () => {
      for (const [i, text] of AWKWARD.entries()) {
        await audit.append({
          eventType: `test.awkward.${i}`,
          actorType: 'user',
          actorId: text,
          deviceId: text,
          action: text,
          remoteUser: text,
          outcome: text,
          ruleIds: [text, 'rule,1', 'r"2'],
          policyVersion: text,
          approvers: [text],
          sourceAddress: text,
          requestId: text,
          // Keys out of order, nested; numbers JSON and jsonb write differently (1e21, 1.50, -0).
          details: { z: text, [text]: 1, a: { y: [text, 1.5, -0, 1e21, 0.1, 123456789012], x: null }, é: true },
        });
      }
    };
    await awkward();
    await appendBulkRecords((sql, params) => t.database.dataSource.query(sql, params), bulk, bulkAt);
    await awkward();
  }, 300_000);
  afterAll(async () => t?.close());

  const compare = async (q: AuditExportQuery) => {
    const copied = await bytesOf(exporter.bytes(q));
    const batched = await bytesOf(exporter.batchedText(q));
    expect(copied.length).toBe(batched.length);
    expect(copied.equals(batched)).toBe(true);
    return copied;
  };

  it('writes JSON Lines byte for byte as before, and the file verifies offline', async () => {
    const copied = await compare({ format: 'jsonl' });
    const file = join(dir, 'all.jsonl');
    writeFileSync(file, copied);
    const result = await verifyExportFile(file);
    expect(result).toMatchObject({ ok: true, first: 1 });
    expect(result.records).toBeGreaterThan(bulk + 2 * AWKWARD.length);
    // Every awkward value came back as it was written.
    const lines = copied.toString('utf8').split('\n').filter(Boolean);
    const awkwardLines = lines.map((l) => JSON.parse(l)).filter((r) => r.eventType.startsWith('test.awkward.'));
    expect(awkwardLines.map((r) => r.actorId)).toEqual([...AWKWARD, ...AWKWARD]);
    expect(awkwardLines.map((r) => r.details.z)).toEqual([...AWKWARD, ...AWKWARD]);
    // As text (the CLI's way): the same characters, none cut where a piece of the COPY ends.
    let text = '';
    for await (const piece of exporter.text({ format: 'jsonl' })) text += piece;
    expect(text === copied.toString('utf8')).toBe(true);
  });

  it('writes CSV byte for byte as before, with the chain fields of the JSON Lines export', async () => {
    const copied = (await compare({ format: 'csv' })).toString('utf8');
    const jsonl = (await bytesOf(exporter.bytes({ format: 'jsonl' }))).toString('utf8').split('\n').filter(Boolean);
    const last = JSON.parse(jsonl.at(-1)!) as { seq: number; prevHash: string; hash: string };
    expect(copied.endsWith(`,${last.prevHash},${last.hash}\r\n`)).toBe(true);
    expect(copied).toContain(`,"'=HYPERLINK(""http://evil.example"",""click"")",`);
  });

  it('keeps to [from, to): exactly the records of that time, in both formats', async () => {
    const q = { from: bulkAt.toISOString(), to: new Date(bulkAt.getTime() + 1).toISOString() };
    const lines = (await compare({ format: 'jsonl', ...q })).toString('utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(bulk);
    expect(lines.every((l) => l.includes(`"recordedAt" : "${bulkAt.toISOString()}"`))).toBe(true);
    await compare({ format: 'csv', ...q });
    // Before it: the awkward records on either side of the bulk in seq, not one bulk record.
    const before = (await compare({ format: 'jsonl', to: bulkAt.toISOString() })).toString('utf8');
    const events = before
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).eventType as string);
    expect(events.filter((e) => e.startsWith('test.awkward.'))).toHaveLength(2 * AWKWARD.length);
    expect(events).not.toContain('bulk.decision');
  });

  it('holds no statement, snapshot or connection while a slow client reads; sends everything when it resumes', async () => {
    const token = await login(t.baseUrl);
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      httpGet(
        `${t.baseUrl}/api/v1/audit/export?format=jsonl`,
        { headers: { authorization: `Bearer ${token}` } },
        resolve,
      ).on('error', reject),
    );
    res.pause();
    // The client reads nothing: the server fills the socket, then waits with what it has read ahead.
    // (The app's own background statements may run meanwhile: only a COPY or an open transaction counts.)
    await sleep(1500);
    const busy = await t.database.dataSource.query<{ query: string; state: string; xmin: string | null }[]>(
      `SELECT query, state, backend_xmin AS xmin FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()
         AND ((query ILIKE 'COPY%' AND state <> 'idle') OR state LIKE 'idle in transaction%')`,
    );
    expect(busy).toEqual([]);
    let lines = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
    }
    expect(lines).toBeGreaterThan(bulk + 2 * AWKWARD.length);
  }, 60_000);

  it('a COPY that fails midway leaves no connection in the pool in the middle of it', async () => {
    const ds = t.database.dataSource;
    const failing = copyOut(ds, 'COPY (SELECT generate_series(1, 2000000)) TO STDOUT', {
      piece() {
        throw new Error('the client went away');
      },
    });
    await expect(failing).rejects.toThrow('the client went away');
    // The pool hands out its most recently released connection first: it must still answer.
    for (let i = 0; i < 3; i++) expect(await ds.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  }, 30_000);
});
