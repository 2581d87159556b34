import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

/** Characters an approver cannot see, or that reorder what they see. */
const HIDDEN = ['\u202e', '\u200b', '\u2066', '\u2069', '\u200e', '\u200f', '\ufeff', '\u2060', '\u0085'];

describe('invisible and direction-changing characters in what approvers read', () => {
  let t: TestApp;
  let admin: string;
  let ct: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await login(t.baseUrl);
    ct = await enrollDevice(t.baseUrl, admin, { deviceId: 'ct-hidden', model: 'SOMATOM X', site: 'Main campus' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const cases = (c: string) => [
    { field: 'remoteUser.id', body: decisionBody({ remoteUser: { id: `jdoe${c}@acme.example` } }) },
    {
      field: 'target.path',
      body: decisionBody({ action: 'file-download', target: { path: `/var/log/a${c}txt.exe` } }),
    },
    { field: 'target.package', body: decisionBody({ action: 'software-install', target: { package: `ct${c}fw` } }) },
    { field: 'context.reason', body: decisionBody({ context: { reason: `routine ${c}check` } }) },
  ];

  it('refuses each in remote-user ids, targets and reasons with a 400 naming the field', async () => {
    for (const c of HIDDEN) {
      for (const { field, body } of cases(c)) {
        const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body });
        const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
        expect([field, code, res.status, res.body.error?.details]).toEqual([
          field,
          code,
          400,
          [{ field, problem: expect.stringContaining(code) }],
        ]);
      }
    }
  });

  it('still takes line breaks and tabs in a reason, and plain Unicode text anywhere', async () => {
    const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', {
      token: ct,
      body: decisionBody({
        remoteUser: { id: 'jürgen.müller@acme.example' },
        context: { reason: 'Fehlerprotokoll\n\tprüfen (日本語)' },
      }),
    });
    expect(res.status).toBe(200);
  });
});
