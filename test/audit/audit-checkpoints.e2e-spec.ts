import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashRecord, normalizeEvent } from '../../src/audit/audit-chain.js';
import { fromRow, type AuditRow } from '../../src/audit/audit-row.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { CheckpointScheduler } from '../../src/audit/checkpoint-scheduler.js';
import { canonicalize } from '../../src/signing/canonical-json.js';
import { keyPairFromPrivatePem } from '../../src/signing/signatures.js';
import { SigningKeysService } from '../../src/signing/signing-keys.service.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

describe('audit checkpoints', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { AUDIT_CHECKPOINT_MINUTES: '0' } });
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  const query = <T = any>(sql: string, params: unknown[] = []) => t.database.dataSource.query<T>(sql, params);
  /** As the tables' owner would: switch the append-only triggers off, tamper, switch them on. */
  const tamper = async (fn: () => Promise<unknown>, table = 'audit_records') => {
    await query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    try {
      await fn();
    } finally {
      await query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
    }
  };
  const verifyChain = (qs = '') => api(t.baseUrl, 'GET', `/api/v1/audit/verify${qs}`, { token });
  const checkpointNow = () => api(t.baseUrl, 'POST', '/api/v1/audit/checkpoints', { token });
  const append = (n: number, tag: string) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.app.get(AuditService).append({ eventType: 'test.event', actorType: 'system', details: { tag, i } }),
      ),
    );
  const head = async () => Number((await query('SELECT max(seq) AS s FROM audit_records'))[0].s);

  it('signs checkpoints that anyone can check with the published key (Ed25519 over RFC 8785 JSON)', async () => {
    await append(3, 'signed');
    const created = await checkpointNow();
    expect(created.status).toBe(200);
    const latest = await api(t.baseUrl, 'GET', '/api/v1/audit/checkpoints/latest', { token });
    expect(latest.body).toEqual(created.body);
    expect(Object.keys(latest.body).sort()).toEqual(['at', 'hash', 'keyId', 'seq', 'signature']);
    expect(latest.body.seq).toBe(await head());

    const published = await api(t.baseUrl, 'GET', '/api/v1/audit/public-key'); // no token: anyone
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ keyId: latest.body.keyId, algorithm: 'Ed25519', previousKeys: [] });
    const { signature, ...signedFields } = latest.body;
    const key = createPublicKey(published.body.publicKey);
    const message = Buffer.from(canonicalize(signedFields));
    expect(verify(null, message, key, Buffer.from(signature, 'base64'))).toBe(true);
    expect(
      verify(null, Buffer.from(canonicalize({ ...signedFields, seq: 1 })), key, Buffer.from(signature, 'base64')),
    ).toBe(false);
  });

  it('checkpoints on schedule only when the head moved', async () => {
    const scheduler = t.app.get(CheckpointScheduler);
    const count = async () => Number((await query('SELECT count(*) AS n FROM audit_checkpoints'))[0].n);
    await append(1, 'tick');
    const before = await count();
    await scheduler.tick();
    expect(await count()).toBe(before + 1);
    await scheduler.tick();
    expect(await count()).toBe(before + 1);
  });

  it('finds a removed tail, names the checkpoint, and never reuses its sequence numbers', async () => {
    await append(5, 'tail');
    const cp = (await checkpointNow()).body;
    expect((await verifyChain()).body).toMatchObject({ ok: true });

    // The owner deletes the newest three records: the chain alone still looks whole.
    await tamper(() => query('DELETE FROM audit_records WHERE seq > $1', [cp.seq - 3]));
    const res = await verifyChain();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: false,
      firstBadSeq: cp.seq - 2,
      reason: `the chain ends at record ${cp.seq - 3}, before the last stored checkpoint (record ${cp.seq}, signed ${cp.at}): records ${cp.seq - 2} to ${cp.seq} or more were removed`,
      checkpoints: [{ seq: cp.seq, hash: cp.hash, at: cp.at, source: 'stored' }],
    });

    // The next append continues after the checkpoint; verify reports the gap it leaves.
    const [next] = await append(1, 'after-truncation');
    expect(next.seq).toBe(cp.seq + 1);
    expect(next.prevHash).toBe(cp.hash);
    expect((await verifyChain()).body).toMatchObject({
      ok: false,
      firstBadSeq: cp.seq - 2,
      reason: `record ${cp.seq - 2} is missing`,
    });
  });
});

describe('a history rewritten with every hash recomputed', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { AUDIT_CHECKPOINT_MINUTES: '0' } });
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is caught by the signed checkpoint, by a checkpoint given in the query, and a forged checkpoint too', async () => {
    const db = t.database.dataSource;
    for (let i = 0; i < 6; i++) {
      await t.app
        .get(AuditService)
        .append({ eventType: 'test.event', actorType: 'system', outcome: 'denied', details: { i } });
    }
    const cp = (await api(t.baseUrl, 'POST', '/api/v1/audit/checkpoints', { token })).body;
    const verifyChain = (qs = '') => api(t.baseUrl, 'GET', `/api/v1/audit/verify${qs}`, { token });
    expect((await verifyChain(`?checkpointSeq=${cp.seq}&checkpointHash=${cp.hash}`)).body.ok).toBe(true);

    // As a superuser with triggers off: a denial becomes an allow, and every later hash is recomputed.
    const rows = (await db.query<AuditRow[]>(`SELECT * FROM audit_records ORDER BY seq`)).map(fromRow);
    const victim = rows.findIndex((r) => r.eventType === 'test.event');
    await db.query('ALTER TABLE audit_records DISABLE TRIGGER USER');
    try {
      let prev = rows[victim - 1].hash;
      for (const r of rows.slice(victim)) {
        const edited = { ...r, outcome: r.seq === rows[victim].seq ? 'allowed' : r.outcome, prevHash: prev };
        const hash = hashRecord(r.seq, r.recordedAt, normalizeEvent(edited), prev);
        await db.query('UPDATE audit_records SET outcome = $1, prev_hash = $2, hash = $3 WHERE seq = $4', [
          edited.outcome,
          prev,
          hash,
          r.seq,
        ]);
        prev = hash;
      }
    } finally {
      await db.query('ALTER TABLE audit_records ENABLE TRIGGER USER');
    }
    const plainChain = await import('../../src/audit/audit-verifier.js');
    expect((await plainChain.verifyAuditChain(db)).ok).toBe(true); // the chain alone cannot tell

    // This process verified up to the head before; the record there changed, so this run walks it all.
    expect((await verifyChain()).body).toMatchObject({ ok: false, firstBadSeq: cp.seq, run: { mode: 'full' } });
    const rewritten = {
      ok: false,
      firstBadSeq: cp.seq,
      reason: expect.stringContaining(`record ${cp.seq} has another hash (records up to ${cp.seq} were rewritten)`),
    };
    expect((await verifyChain()).body).toMatchObject({
      ...rewritten,
      reason: expect.stringContaining('the chain no longer reaches the last stored checkpoint'),
    });
    expect((await verifyChain(`?checkpointSeq=${cp.seq}&checkpointHash=${cp.hash}`)).body).toMatchObject(rewritten);

    // Re-pointing the stored checkpoint at the new hash needs the key: without it the signature fails.
    const newHash = (await db.query('SELECT hash FROM audit_records WHERE seq = $1', [cp.seq]))[0].hash;
    await db.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
    await db.query('UPDATE audit_checkpoints SET hash = $1 WHERE seq = $2', [newHash, cp.seq]);
    await db.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
    expect((await verifyChain()).body).toMatchObject({
      ok: false,
      firstBadSeq: cp.seq,
      reason: expect.stringMatching(/last stored checkpoint .* is not signed by any of this appliance's keys/),
    });
  });

  it('refuses a half or malformed checkpoint in the query with a 400', async () => {
    for (const qs of ['?checkpointSeq=3', '?checkpointHash=' + 'a'.repeat(64), '?checkpointSeq=x&checkpointHash=ab']) {
      const res = await api(t.baseUrl, 'GET', `/api/v1/audit/verify${qs}`, { token });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
  });

  it('keeps checkpoints append-only', async () => {
    await expect(t.database.dataSource.query('DELETE FROM audit_checkpoints')).rejects.toThrow(/append-only: DELETE/);
    await expect(t.database.dataSource.query('TRUNCATE audit_checkpoints')).rejects.toThrow(/append-only: TRUNCATE/);
  });
});

describe('a signing key kept in a file (AUDIT_SIGNING_KEY_FILE)', () => {
  it('signs with the file, keeps only its public half in the database, and refuses a rotation there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-key-'));
    const file = join(dir, 'signing.pem');
    writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const t = await startTestApp({ env: { AUDIT_SIGNING_KEY_FILE: file, AUDIT_CHECKPOINT_MINUTES: '0' } });
    try {
      const token = await login(t.baseUrl);
      const cp = (await api(t.baseUrl, 'POST', '/api/v1/audit/checkpoints', { token })).body;
      const expectedKeyId = keyPairFromPrivatePem(readFileSync(file, 'utf8'), file).keyId;
      expect(cp.keyId).toBe(expectedKeyId);
      const rows = await t.database.dataSource.query(
        'SELECT key_id, private_key FROM signing_keys WHERE retired_at IS NULL',
      );
      expect(rows).toEqual([{ key_id: expectedKeyId, private_key: null }]);
      await expect(t.database.dataSource.transaction((m) => t.app.get(SigningKeysService).rotateIn(m))).rejects.toThrow(
        /AUDIT_SIGNING_KEY_FILE/,
      );
      expect((await api(t.baseUrl, 'GET', '/api/v1/audit/verify', { token })).body.ok).toBe(true);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
