import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { canonicalJson, hashRecord } from '../../src/audit/audit-chain.js';
import { fromRow, type AuditRow } from '../../src/audit/audit-row.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { AuditWriter } from '../../src/audit/audit-writer.js';
import { verifyAuditChain } from '../../src/audit/audit-verifier.js';
import { SystemClock } from '../../src/common/clock.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

describe('audit trail', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  const query = (sql: string) => t.database.dataSource.query(sql);
  /** As an attacker with the database owner's rights would: switch the guard off, tamper, switch it on. */
  const tamper = async (sql: string) => {
    await query('ALTER TABLE audit_records DISABLE TRIGGER USER');
    try {
      await query(sql);
    } finally {
      await query('ALTER TABLE audit_records ENABLE TRIGGER USER');
    }
  };
  // full=true: a change in the middle of what was verified before is found only by walking it all.
  const verify = () => api(t.baseUrl, 'GET', '/api/v1/audit/verify?full=true', { token });

  it('is refused UPDATE, DELETE and TRUNCATE by the database itself', async () => {
    await expect(query(`UPDATE audit_records SET outcome = 'success'`)).rejects.toThrow(/append-only: UPDATE/);
    await expect(query('DELETE FROM audit_records')).rejects.toThrow(/append-only: DELETE/);
    await expect(query('TRUNCATE audit_records')).rejects.toThrow(/append-only: TRUNCATE/);
  });

  it('offers no API that changes or deletes records, to any role', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      const res = await api(t.baseUrl, method, '/api/v1/audit', { token, body: {} });
      expect(res.status).toBe(404);
    }
  });

  it('records who signed in, with a complete record', async () => {
    const res = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=auth.login&limit=1', { token });
    expect(res.status).toBe(200);
    const record = res.body.items[0];
    expect(record).toMatchObject({ eventType: 'auth.login', actorType: 'user', actorId: 'admin', outcome: 'success' });
    expect(record.sourceAddress).toBe('127.0.0.1');
    expect(new Date(record.recordedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the HTTP request (its X-Request-Id) in the records a staff call writes', async () => {
    const created = await api(t.baseUrl, 'POST', '/api/v1/groups', {
      token,
      headers: { 'x-request-id': 'trace-audit-1' },
      body: { name: 'trace-group', description: 'traced' },
    });
    expect(created.status).toBe(201);
    const failed = await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
      headers: { 'x-request-id': 'trace-audit-2' },
      body: { username: 'nobody-here', password: 'wrong-password-123' },
    });
    expect(failed.status).toBe(401);
    const res = await api(t.baseUrl, 'GET', '/api/v1/audit?limit=20', { token });
    const byTrace = (id: string) =>
      res.body.items.find((r: { details: { httpRequestId?: string } }) => r.details.httpRequestId === id);
    expect(byTrace('trace-audit-1')).toMatchObject({ eventType: 'group.created', actorId: 'admin' });
    expect(byTrace('trace-audit-2')).toMatchObject({ eventType: 'auth.login', outcome: 'failure' });
    expect(byTrace('trace-audit-2').sourceAddress).toBe('127.0.0.1');
  });

  it('verifies an intact chain and names its head', async () => {
    const res = await verify();
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.records).toBeGreaterThan(0);
    const checkpoint = await api(t.baseUrl, 'GET', '/api/v1/audit/checkpoint', { token });
    expect(checkpoint.body.head.seq).toBeGreaterThanOrEqual(res.body.head.seq);
  });

  it('names the first changed, removed or reordered record', async () => {
    const audit = t.app.get(AuditService);
    for (let i = 0; i < 10; i++) await audit.append({ eventType: 'test.event', actorType: 'system', details: { i } });
    const rows = await query(`SELECT seq FROM audit_records WHERE event_type = 'test.event' ORDER BY seq`);
    const seqs = rows.map((r: { seq: string }) => Number(r.seq));
    expect((await verify()).body.ok).toBe(true);

    // Changed: one field of one record.
    await tamper(`UPDATE audit_records SET outcome = 'success' WHERE seq = ${seqs[3]}`);
    expect((await verify()).body).toMatchObject({
      ok: false,
      firstBadSeq: seqs[3],
      reason: expect.stringMatching(/changed/),
    });
    await tamper(`UPDATE audit_records SET outcome = NULL WHERE seq = ${seqs[3]}`);
    expect((await verify()).body.ok).toBe(true);

    // Reordered: two records swap places (each keeps its own hash).
    await tamper(`UPDATE audit_records SET seq = -1 WHERE seq = ${seqs[5]}`);
    await tamper(`UPDATE audit_records SET seq = ${seqs[5]} WHERE seq = ${seqs[6]}`);
    await tamper(`UPDATE audit_records SET seq = ${seqs[6]} WHERE seq = -1`);
    expect((await verify()).body).toMatchObject({ ok: false, firstBadSeq: seqs[5] });
    await tamper(`UPDATE audit_records SET seq = -1 WHERE seq = ${seqs[5]}`);
    await tamper(`UPDATE audit_records SET seq = ${seqs[5]} WHERE seq = ${seqs[6]}`);
    await tamper(`UPDATE audit_records SET seq = ${seqs[6]} WHERE seq = -1`);
    expect((await verify()).body.ok).toBe(true);

    // Removed.
    await tamper(`DELETE FROM audit_records WHERE seq = ${seqs[7]}`);
    expect((await verify()).body).toMatchObject({
      ok: false,
      firstBadSeq: seqs[7],
      reason: expect.stringMatching(/missing/),
    });
  });
});

describe('audit chain under concurrent writers in several processes', () => {
  it('stays one unforked chain with every append committed', async () => {
    const t = await startTestApp();
    try {
      // A second and third "process": independent pools and writers on the same database.
      const config = loadConfig({ ...t.db.env, LOG_LEVEL: 'silent' });
      const others =
        t.db.kind === 'postgres'
          ? [await Database.open(config, { migrate: false }), await Database.open(config, { migrate: false })]
          : [];
      const writers = [t.app.get(AuditService), ...others.map((d) => new AuditWriter(d.dataSource, new SystemClock()))];
      const perWriter = 300;
      const results = await Promise.all(
        writers.flatMap((w, wi) =>
          Array.from({ length: perWriter }, (_, i) =>
            w.append({ eventType: 'load.test', actorType: 'system', details: { wi, i } }),
          ),
        ),
      );
      const seqs = results.map((r) => r.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      const verified = await verifyAuditChain(t.database.dataSource);
      expect(verified.ok).toBe(true);
      const count = await t.database.dataSource.query(
        `SELECT count(*)::int AS n FROM audit_records WHERE event_type = 'load.test'`,
      );
      expect(count[0].n).toBe(writers.length * perWriter);
      for (const d of others) await d.close();
    } finally {
      await t.close();
    }
  });
});

describe('audit records written by the database function', () => {
  it('store and hash exactly what the application hashes, whatever the text', async () => {
    const t = await startTestApp();
    try {
      const awkward = [
        { text: 'Zürich 東京 🏥 "quoted" \\ back\\slash\ttab\nnewline \u0001' },
        { nul: 'a\u0000b', ['key\u0000with nul']: 1, nested: [{ z: 1, a: [null, true, 0.1, 1e21, -0] }] },
        { empty: {}, list: [], when: new Date('2026-11-23T10:00:00.123Z'), dropped: undefined },
      ];
      const written = await Promise.all(
        awkward.map((details, i) =>
          t.app.get(AuditService).append({
            eventType: 'awkward.text',
            actorType: 'user',
            actorId: `ünïcode-${i}`,
            ruleIds: ['r"1', 'r\\2'],
            approvers: ['Ärzte'],
            details,
          }),
        ),
      );
      const bySeq = [...written].sort((a, b) => a.seq - b.seq);
      bySeq.forEach((record, i) => {
        // The database's hash is the one the application (and the verifier) computes, and
        // each record links to the one before.
        expect(record.hash).toBe(hashRecord(record.seq, record.recordedAt, record, record.prevHash));
        if (i > 0) expect([record.seq, record.prevHash]).toEqual([bySeq[i - 1].seq + 1, bySeq[i - 1].hash]);
      });
      const rows = await t.database.dataSource.query<AuditRow[]>(
        `SELECT * FROM audit_records WHERE event_type = 'awkward.text' ORDER BY seq`,
      );
      expect(rows.map(fromRow)).toEqual(
        [...written]
          .sort((a, b) => a.seq - b.seq)
          .map((r) => ({ ...r, details: JSON.parse(canonicalJson(r.details)) as Record<string, unknown> })),
      );
      expect(rows[1].details).toEqual({
        nul: 'a\uFFFDb',
        'key\uFFFDwith nul': 1,
        nested: [{ z: 1, a: [null, true, 0.1, 1e21, 0] }],
      });
      expect((await verifyAuditChain(t.database.dataSource)).ok).toBe(true);
    } finally {
      await t.close();
    }
  });
});
