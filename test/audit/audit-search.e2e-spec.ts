import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditService } from '../../src/audit/audit.service.js';
import { enrollDevice, decisionBody } from '../support/agent.js';
import { askPending, createApprovalWorld, installBody, type ApprovalWorld } from '../support/approvers.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

interface Rec {
  seq: number;
  eventType: string;
  actorId: string | null;
  deviceId: string | null;
  remoteUser: string | null;
  outcome: string | null;
  requestId: string | null;
  ruleIds: string[];
  recordedAt: string;
  details: Record<string, any>;
  prevHash: string;
  hash: string;
}

describe('audit search (GET /api/v1/audit)', () => {
  let t: TestApp;
  let w: ApprovalWorld;
  let mri: string;
  const clock = new TestClock(new Date('2026-11-23T10:00:00Z'));
  const get = (path: string, token = w.admin) => api(t.baseUrl, 'GET', path, { token });
  const decide = (device: string, body: object) =>
    api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: device, body });

  /** Every page of a query, following nextCursor; optionally doing something between pages. */
  async function allPages(query: string, between?: () => Promise<void>): Promise<Rec[]> {
    const out: Rec[] = [];
    for (let cursor: string | null = null, i = 0; i < 1000; i++) {
      const res = await get(`/api/v1/audit?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      out.push(...(res.body.items as Rec[]));
      cursor = res.body.nextCursor;
      if (!cursor) return out;
      await between?.();
    }
    throw new Error('did not end');
  }

  beforeAll(async () => {
    t = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '1440', SESSION_TTL_MINUTES: '10080' } });
    w = await createApprovalWorld(t.baseUrl);
    mri = await enrollDevice(t.baseUrl, w.admin, { deviceId: 'mr-1', model: 'MAGNETOM Vida' });
    // Decisions with different devices, users, enterprises, tickets and rules.
    await askPending(t.baseUrl, w.ct, installBody('search-a'));
    await decide(w.ct, decisionBody({ remoteUser: { id: 'kim@globex.example', enterprise: 'globex' } }));
    await decide(mri, decisionBody({ context: { ticket: 'INC-9000' } }));
    clock.advance(60_000);
    await decide(mri, decisionBody({ action: 'software-install', target: { package: 'mr-fw', version: '1' } }));
  });
  afterAll(async () => t?.close());

  it('filters by each field, finding exactly the records that match', async () => {
    const all = await allPages('sort=oldest&limit=500');
    expect(all.length).toBeGreaterThan(10);
    const first = all.find((r) => r.eventType === 'decision')!;
    const cases: [string, (r: Rec) => boolean][] = [
      ['eventType=decision', (r) => r.eventType === 'decision'],
      ['deviceId=mr-1', (r) => r.deviceId === 'mr-1'],
      ['deviceGroup=mri-scanners', (r) => r.deviceId === 'mr-1'],
      ['deviceGroup=ct-scanners', (r) => r.deviceId === 'ct-a1'],
      ['remoteUser=kim%40globex.example', (r) => r.remoteUser === 'kim@globex.example'],
      ['enterprise=globex', (r) => r.details.enterprise === 'globex'],
      ['actor=alice', (r) => r.actorId === 'alice'],
      ['outcome=pending', (r) => r.outcome === 'pending'],
      [`requestId=${first.requestId}`, (r) => r.requestId === first.requestId],
      ['ruleId=acme-ct-installs', (r) => r.ruleIds.includes('acme-ct-installs')],
      ['ticket=INC-9000', (r) => r.details.context?.ticket === 'INC-9000'],
      ['from=2026-11-23T10:01:00Z', (r) => r.recordedAt >= '2026-11-23T10:01:00.000Z'],
      ['to=2026-11-23T10:01:00Z', (r) => r.recordedAt < '2026-11-23T10:01:00.000Z'],
      ['deviceId=mr-1&outcome=pending', (r) => r.deviceId === 'mr-1' && r.outcome === 'pending'],
    ];
    for (const [query, matches] of cases) {
      const expected = all.filter(matches).map((r) => r.seq);
      expect([query, expected.length > 0]).toEqual([query, true]); // each case finds something...
      expect([query, expected.length < all.length]).toEqual([query, true]); // ...and leaves something out
      const found = await allPages(`${query}&sort=oldest&limit=2`);
      expect([query, found.map((r) => r.seq)]).toEqual([query, expected]);
    }
  });

  it('returns each record with its chain fields, newest first by default', async () => {
    const res = await get('/api/v1/audit?limit=5');
    const seqs = res.body.items.map((r: Rec) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => b - a));
    for (const r of res.body.items as Rec[]) {
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.prevHash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(res.body.items[1].hash).toBe(res.body.items[0].prevHash);
  });

  it('pages without gaps or duplicates while records are appended, in either order', async () => {
    const audit = t.app.get(AuditService);
    const append = async () => {
      await audit.append({ eventType: 'test.paging', actorType: 'system' });
      await audit.append({ eventType: 'test.paging', actorType: 'system' });
    };
    const head = (await get('/api/v1/audit?limit=1')).body.items[0].seq as number;
    const newest = (await allPages('limit=3', append)).map((r) => r.seq);
    // Newest first: exactly the records there were when paging began, each once, in order.
    expect(newest).toEqual(Array.from({ length: head }, (_, i) => head - i));
    const oldest = (await allPages('sort=oldest&limit=4', append)).map((r) => r.seq);
    // Oldest first: every record, the ones appended meanwhile too (up to the last page read).
    expect(oldest).toEqual(Array.from({ length: oldest.length }, (_, i) => i + 1));
    expect(oldest.length).toBeGreaterThan(newest.length);
  });

  it('refuses unknown filters, bad cursors and inverted time ranges with 400 in the error shape', async () => {
    const newestCursor = (await get('/api/v1/audit?limit=1')).body.nextCursor as string;
    const bad = [
      'actorId=admin',
      'before=10',
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('["newest",-1]').toString('base64url')}`,
      `cursor=${Buffer.from('["newest","1; DROP TABLE audit_records"]').toString('base64url')}`,
      `sort=oldest&cursor=${newestCursor}`, // a cursor is for the order it was given in
      'from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z',
      'from=yesterday',
      'sort=hash',
      'limit=0',
      'limit=501',
    ];
    for (const query of bad) {
      const res = await get(`/api/v1/audit?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', message: expect.any(String) });
      expect(Array.isArray(res.body.error.details)).toBe(true);
    }
  });

  it('is for auditors and administrators only', async () => {
    for (const person of ['alice', 'dave'] as const) {
      expect((await get('/api/v1/audit', w.tokens[person])).status).toBe(403);
      expect((await get('/api/v1/audit/export', w.tokens[person])).status).toBe(403);
    }
    const auditor = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: w.admin,
      body: { username: 'audrey', password: 'auditor-password-long-enough', groups: ['IT-Security'] },
    });
    expect(auditor.status).toBe(201);
    const token = (
      await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
        body: { username: 'audrey', password: 'auditor-password-long-enough' },
      })
    ).body.token as string;
    expect((await get('/api/v1/audit?limit=1', token)).status).toBe(200);
  });

  it('uses an index for each filter (EXPLAIN, sequential scans off so the small table shows what is usable)', async () => {
    const plans: Record<string, string> = {
      "device_id = 'x' ORDER BY seq DESC": 'idx_audit_records_device_id',
      "remote_user = 'x' ORDER BY seq DESC": 'idx_audit_records_remote_user',
      "actor_id = 'x' ORDER BY seq DESC": 'idx_audit_records_actor_id',
      "outcome = 'x' ORDER BY seq DESC": 'idx_audit_records_outcome',
      "(details->>'enterprise') = 'x' ORDER BY seq DESC": 'idx_audit_records_enterprise',
      "(details->'context'->>'ticket') = 'x' ORDER BY seq DESC": 'idx_audit_records_ticket',
      "rule_ids @> ARRAY['x']::text[] ORDER BY seq DESC": 'idx_audit_records_rule_ids',
      "request_id = 'x' OR (details->>'grantedByRequest') = 'x' ORDER BY seq": 'idx_audit_records_granted_by',
    };
    const runner = t.database.dataSource.createQueryRunner();
    try {
      await runner.query('SET enable_seqscan = off');
      for (const [where, index] of Object.entries(plans)) {
        const plan = (await runner.query(`EXPLAIN SELECT * FROM audit_records WHERE ${where} LIMIT 101`)) as {
          'QUERY PLAN': string;
        }[];
        expect([where, plan.map((p) => p['QUERY PLAN']).join('\n')]).toEqual([where, expect.stringContaining(index)]);
      }
      await runner.query('RESET enable_seqscan');
    } finally {
      await runner.release();
    }
  });
});
