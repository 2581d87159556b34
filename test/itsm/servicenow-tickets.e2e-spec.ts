import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ItsmUnavailableError } from '../../src/itsm/itsm-errors.js';
import { ServiceNowClient } from '../../src/itsm/servicenow-client.js';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { selfSignedCertificate } from '../support/certificates.js';
import { FakeServiceNow } from '../support/servicenow-server.js';
import { api, login, startTestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

// Tuesday 2026-11-24 08:00 UTC.
const NOW = new Date('2026-11-24T08:00:00Z');
const CREDENTIALS = { user: 'gatehouse', password: 'sn-password', clientId: 'gh-client', clientSecret: 'gh-secret' };
const SCHEDULED = { value: '-2', display: 'Scheduled' };

const RULES = `rules:
  - id: sessions-with-change
    effect: allow
    actions: [remote-session]
    devices: [ct-scanners]
    ticket: { required: true, pattern: "^(INC|CHG)[0-9]{7}$", check: servicenow, ciMatch: true, onUnavailable: ask }
  - id: downloads-with-ticket
    effect: allow
    actions: [file-download]
    devices: [ct-scanners]
    ticket: { required: true, check: servicenow }
  - id: logs-without-ticket
    effect: allow
    actions: [log-upload]
    devices: [ct-scanners]
`;

function ticketPolicyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tickets-'));
  for (const file of ['access.yaml', 'defaults.yaml', 'device-groups.yaml'])
    cpSync(join('policies', file), join(dir, file));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'tickets.yaml'), RULES);
  return dir;
}

function fillTickets(sn: FakeServiceNow): void {
  sn.tables.set('change_request', [
    {
      number: 'CHG0000001',
      state: SCHEDULED,
      cmdbCi: 'ct-0042',
      startDate: '2026-11-24 07:00:00',
      endDate: '2026-11-24 10:00:00',
    },
    {
      number: 'CHG0000002',
      state: { value: '3', display: 'Closed' },
      cmdbCi: 'ct-0042',
      startDate: '2026-11-24 07:00:00',
      endDate: '2026-11-24 10:00:00',
    },
    {
      number: 'CHG0000003',
      state: { value: '-1', display: 'Implement' },
      cmdbCi: 'mri-0001',
      startDate: '2026-11-24 07:00:00',
      endDate: '2026-11-24 10:00:00',
    },
    {
      number: 'CHG0000004',
      state: SCHEDULED,
      cmdbCi: 'ct-0042',
      startDate: '2026-11-25 07:00:00',
      endDate: '2026-11-25 10:00:00',
    },
    {
      number: 'CHG0000005',
      state: SCHEDULED,
      cmdbCi: 'ct-0042',
      startDate: '2026-11-24 07:00:00',
      endDate: '2026-11-24 10:00:00',
    },
    {
      number: 'CHG0000006',
      state: SCHEDULED,
      cmdbCi: 'ct-0042',
      startDate: '2026-11-24 07:00:00',
      endDate: '2026-11-24 10:00:00',
    },
    {
      number: 'CHG0000007',
      state: SCHEDULED,
      cmdbCi: 'ct-0042',
      startDate: '2026-11-25 07:00:00',
      endDate: '2026-11-25 10:00:00',
    },
  ]);
  sn.tables.set('incident', [
    { number: 'INC0000001', state: { value: '2', display: 'In Progress' }, cmdbCi: 'ct-0042' },
  ]);
}

describe('ticket-bound access with ServiceNow (Table API over HTTPS)', () => {
  let certDir: string;
  let policyDir: string;
  let tls: { certFile: string; keyFile: string };
  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'gatehouse-sn-cert-'));
    tls = selfSignedCertificate(certDir, { subject: '/CN=servicenow.test', altNames: 'IP:127.0.0.1' });
    policyDir = ticketPolicyDir();
  });
  afterAll(() => {
    rmSync(certDir, { recursive: true, force: true });
    rmSync(policyDir, { recursive: true, force: true });
  });

  async function world(auth: Record<string, string>) {
    const sn = new FakeServiceNow(tls, CREDENTIALS);
    await sn.start();
    fillTickets(sn);
    const clock = new TestClock(NOW);
    const t = await startTestApp({
      clock,
      env: {
        POLICIES_DIR: policyDir,
        DEVICE_RATE_BURST: '1000',
        SERVICENOW_URL: sn.url,
        SERVICENOW_CA_FILE: tls.certFile,
        SERVICENOW_TIMEOUT_MS: '500',
        ...auth,
      },
    });
    const admin = await login(t.baseUrl);
    const ct = await enrollDevice(t.baseUrl, admin, {
      deviceId: 'ct-0042',
      model: 'SOMATOM X.cite',
      site: 'Main campus',
    });
    const decide = async (action: string, ticket?: string) =>
      (
        await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', {
          token: ct,
          body: decisionBody({ action, ...(ticket ? { context: { ticket } } : {}) }),
        })
      ).body;
    const simulate = async (body: Record<string, unknown>) => {
      const res = await api(t.baseUrl, 'POST', '/api/v1/policies/simulate', {
        token: admin,
        body: { deviceId: 'ct-0042', remoteUser: { id: 'jdoe@acme.example' }, ...body },
      });
      expect(res.status).toBe(200);
      return res.body;
    };
    return { sn, clock, t, decide, simulate };
  }

  describe('basic authentication', () => {
    let w: Awaited<ReturnType<typeof world>>;
    beforeAll(async () => {
      w = await world({ SERVICENOW_USER: CREDENTIALS.user, SERVICENOW_PASSWORD: CREDENTIALS.password });
    });
    afterAll(async () => {
      await w?.t.close();
      await w?.sn.stop();
    });

    it('allows with an open change in its window that names the device, and with an incident in progress', async () => {
      expect(await w.decide('remote-session', 'CHG0000001')).toMatchObject({
        decision: 'allow',
        policies: ['sessions-with-change'],
      });
      expect(await w.decide('remote-session', 'INC0000001')).toMatchObject({ decision: 'allow' });
      const basic = `Basic ${Buffer.from('gatehouse:sn-password').toString('base64')}`;
      expect(w.sn.requests.at(-1)).toMatchObject({
        method: 'GET',
        path: '/api/now/table/incident',
        authorization: basic,
      });
    });

    it('denies a closed change, one for another CI, one outside its window, and an unknown one, saying why', async () => {
      const closed = await w.decide('remote-session', 'CHG0000002');
      expect(closed).toMatchObject({ decision: 'deny', policies: [] });
      expect(closed.reason).toContain('sessions-with-change: ticket CHG0000002 is Closed, not scheduled or implement');
      const otherCi = await w.decide('remote-session', 'CHG0000003');
      expect(otherCi.decision).toBe('deny');
      expect(otherCi.reason).toContain("ticket CHG0000003 names 'mri-0001', not this device (ct-0042)");
      const later = await w.decide('remote-session', 'CHG0000004');
      expect(later.decision).toBe('deny');
      expect(later.reason).toContain(
        'ticket CHG0000004 is planned from 2026-11-25T07:00:00.000Z to 2026-11-25T10:00:00.000Z, not now',
      );
      const unknown = await w.decide('remote-session', 'CHG0000009');
      expect(unknown.decision).toBe('deny');
      expect(unknown.reason).toContain('ticket CHG0000009 is unknown to ServiceNow');
    });

    it('checks the CI only where the rule says so', async () => {
      // downloads-with-ticket has no ciMatch: the change for another CI confirms it.
      expect(await w.decide('file-download', 'CHG0000003')).toMatchObject({ decision: 'allow' });
    });

    it('"what if" asks ServiceNow live at the simulated instant, or decides on a stated answer, and says which', async () => {
      const before = w.sn.tableRequests();
      const live = await w.simulate({ action: 'remote-session', context: { ticket: 'CHG0000007' } });
      expect(live).toMatchObject({ decision: 'deny', decidedBy: 'default', policies: [] });
      expect(live.tickets).toEqual({
        ticket: 'CHG0000007',
        source: 'itsm',
        verdicts: [
          {
            ruleId: 'sessions-with-change',
            verdict: 'refused',
            reason: 'ticket CHG0000007 is planned from 2026-11-25T07:00:00.000Z to 2026-11-25T10:00:00.000Z, not now',
          },
        ],
      });
      expect(live.notMatching).toContainEqual({
        ruleId: 'sessions-with-change',
        effect: 'allow',
        reason: expect.stringMatching(/^ticket: ticket CHG0000007 is planned from/),
      });
      expect(w.sn.tableRequests()).toBe(before + 1);
      // In the change's window: the same answer of ServiceNow (kept) confirms it.
      const inWindow = await w.simulate({
        action: 'remote-session',
        context: { ticket: 'CHG0000007' },
        at: '2026-11-25T08:00:00Z',
      });
      expect(inWindow).toMatchObject({ decision: 'allow', policies: ['sessions-with-change'] });
      expect(inWindow.tickets).toMatchObject({ source: 'itsm', verdicts: [{ verdict: 'confirmed', reason: null }] });

      // Stated answers: ServiceNow is not asked.
      const stated = (action: string, answer: unknown) =>
        w.simulate({ action, context: { ticket: 'CHG0000008' }, itsm: { CHG0000008: answer } });
      const confirmed = await stated('remote-session', 'confirmed');
      expect(confirmed).toMatchObject({ decision: 'allow', policies: ['sessions-with-change'] });
      expect(confirmed.tickets).toEqual({
        ticket: 'CHG0000008',
        source: 'stated',
        verdicts: [{ ruleId: 'sessions-with-change', verdict: 'confirmed', reason: null }],
      });
      const refused = await stated('remote-session', { refused: 'closed' });
      expect(refused).toMatchObject({ decision: 'deny', policies: [] });
      expect(refused.tickets.verdicts).toEqual([
        { ruleId: 'sessions-with-change', verdict: 'refused', reason: 'ticket CHG0000008: closed' },
      ]);
      const down = await stated('remote-session', 'unavailable');
      expect(down).toMatchObject({ decision: 'pending', decidedBy: 'ask', policies: ['sessions-with-change'] });
      expect(down.matching).toContainEqual({ ruleId: 'sessions-with-change', effect: 'ask' });
      expect((await stated('file-download', 'unavailable')).decision).toBe('deny');
      expect(w.sn.tableRequests()).toBe(before + 1);

      const typo = await api(w.t.baseUrl, 'POST', '/api/v1/policies/simulate', {
        token: await login(w.t.baseUrl),
        body: { deviceId: 'ct-0042', action: 'remote-session', remoteUser: { id: 'x' }, itsm: { CHG0000008: 'yes' } },
      });
      expect(typo.status).toBe(400);
      expect(JSON.stringify(typo.body)).toContain('expected confirmed, refused, unavailable');
      const other = await api(w.t.baseUrl, 'POST', '/api/v1/policies/simulate', {
        token: await login(w.t.baseUrl),
        body: {
          deviceId: 'ct-0042',
          action: 'remote-session',
          remoteUser: { id: 'x' },
          itsm: { CHG0000008: 'refused' },
        },
      });
      expect(other.status).toBe(400);
      expect(other.body.error.message).toBe(
        "itsm: an answer for ticket CHG0000008, but the request's ticket (context.ticket) is not given: " +
          "state the answer for the request's ticket",
      );
    });

    it('the console\'s "what if" form takes the ticket and, optionally, the ITSM\'s answer', async () => {
      const page = async (query: Record<string, string>) => {
        const url = new URL('/policies/simulate', w.t.baseUrl);
        const fields = { deviceId: 'ct-0042', action: 'remote-session', remoteUser: 'jdoe@acme.example', ...query };
        for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
        const res = await fetch(url, { headers: { cookie: `gatehouse_session=${await login(w.t.baseUrl)}` } });
        expect(res.status).toBe(200);
        return res.text();
      };
      const stated = await page({ ticket: 'CHG0000008', itsm: 'refused' });
      expect(stated).toContain('<option value="refused" selected>Refused</option>');
      expect(stated).toContain('Ticket CHG0000008: as stated in the form');
      expect(stated).toContain('sessions-with-change: refused (ticket CHG0000008 is refused by the ITSM (as stated))');
      const live = await page({ ticket: 'CHG0000001', itsm: '' });
      expect(live).toContain('Ticket CHG0000001: asked the ITSM now');
      expect(live).toContain('sessions-with-change: confirmed');
      expect(live).toMatch(/Decision: <span class="status approved">allow/);
    });

    it('keeps an answer SERVICENOW_CACHE_SECONDS: a second decision does not ask again, a later one does', async () => {
      const before = w.sn.tableRequests();
      expect((await w.decide('remote-session', 'CHG0000005')).decision).toBe('allow');
      expect((await w.decide('file-download', 'CHG0000005')).decision).toBe('allow');
      expect(w.sn.tableRequests()).toBe(before + 1);
      w.clock.advance(61_000);
      expect((await w.decide('remote-session', 'CHG0000005')).decision).toBe('allow');
      expect(w.sn.tableRequests()).toBe(before + 2);
    });

    it('never asks ServiceNow for requests no checked rule concerns', async () => {
      const before = w.sn.requests.length;
      expect(await w.decide('log-upload', 'CHG0000001')).toMatchObject({ decision: 'allow' });
      expect(await w.decide('log-upload')).toMatchObject({ decision: 'allow' });
      // A ticket that does not match the pattern: the rule does not match, nothing to check.
      expect((await w.decide('remote-session', 'RITM0000001')).decision).toBe('deny');
      expect(w.sn.requests.length).toBe(before);
    });

    it('ServiceNow down, slow or failing: the rule asks (onUnavailable: ask) or denies (default), never allows', async () => {
      for (const mode of ['reset', 'slow', 'error500'] as const) {
        w.sn.mode = mode;
        const session = await w.decide('remote-session', 'CHG0000006');
        expect(session).toMatchObject({ decision: 'pending', status: 'pending', policies: ['sessions-with-change'] });
        expect(session.reason).toContain('ITSM unavailable');
        const download = await w.decide('file-download', 'CHG0000006');
        expect(download).toMatchObject({ decision: 'deny', policies: ['downloads-with-ticket'] });
        expect(download.reason).toContain('ITSM unavailable');
      }
      expect((await w.decide('file-download', 'CHG0000006')).reason).toMatch(/answered 500: Internal server error/);
      // A failure is not kept: back up, the same ticket is confirmed.
      w.sn.mode = 'normal';
      expect((await w.decide('remote-session', 'CHG0000006')).decision).toBe('allow');
    });
  });

  describe('OAuth client credentials', () => {
    let w: Awaited<ReturnType<typeof world>>;
    beforeAll(async () => {
      w = await world({
        SERVICENOW_CLIENT_ID: CREDENTIALS.clientId,
        SERVICENOW_CLIENT_SECRET: CREDENTIALS.clientSecret,
      });
    });
    afterAll(async () => {
      await w?.t.close();
      await w?.sn.stop();
    });

    it('gets a token once, uses it, and gets a new one when ServiceNow answers 401', async () => {
      expect((await w.decide('remote-session', 'CHG0000001')).decision).toBe('allow');
      expect((await w.decide('remote-session', 'INC0000001')).decision).toBe('allow');
      const tokenCalls = () => w.sn.requests.filter((r) => r.path === '/oauth_token.do').length;
      expect(tokenCalls()).toBe(1);
      expect(w.sn.requests.at(-1)?.authorization).toMatch(/^Bearer [0-9a-f]{32}$/);
      w.sn.revokeTokens();
      expect((await w.decide('remote-session', 'CHG0000005')).decision).toBe('allow');
      expect(tokenCalls()).toBe(2);
    });
  });

  it('refuses wrong credentials and an unverified certificate as unavailable', async () => {
    const sn = new FakeServiceNow(tls, CREDENTIALS);
    await sn.start();
    try {
      const client = (auth: { user: string; password: string }, ca?: Buffer) =>
        new ServiceNowClient({ url: sn.url, auth: { kind: 'basic', ...auth }, ca, timeoutMs: 2000 });
      const ca = (await import('node:fs')).readFileSync(tls.certFile);
      await expect(client({ user: 'gatehouse', password: 'wrong' }, ca).findTicket('incident', 'INC1')).rejects.toThrow(
        new ItsmUnavailableError('ServiceNow refused the credentials (401)'),
      );
      await expect(client(CREDENTIALS).findTicket('incident', 'INC1')).rejects.toThrow(
        /could not be reached: .*certificate/,
      );
      expect(await client(CREDENTIALS, ca).findTicket('incident', 'INC1')).toBeNull();
    } finally {
      await sn.stop();
    }
  });
});
