import { api, login } from './test-app.js';
import { decisionBody, enrollDevice } from './agent.js';

export const APPROVER_PASSWORD = 'approver-password-long-enough';

/**
 * The people of the example policy set (policies/access.yaml): alice (Biomed-Approvers:
 * CT scanners, injectors), bob (Radiology-Leads: CT and MRI), carol (Lab-Leads: lab only),
 * dave (Biomed-Staff: viewer), and mallory (Biomed-Approvers) whose e-mail is the remote
 * user id of the test requests: her own requests.
 */
export const PEOPLE = {
  alice: { groups: ['Biomed-Approvers'], email: 'alice@hosp.test' },
  bob: { groups: ['Radiology-Leads'], email: 'bob@hosp.test' },
  carol: { groups: ['Lab-Leads'], email: 'carol@hosp.test' },
  dave: { groups: ['Biomed-Staff'], email: 'dave@hosp.test' },
  mallory: { groups: ['Biomed-Approvers'], email: 'jdoe@acme.example' },
} as const;
export type Person = keyof typeof PEOPLE;

export interface ApprovalWorld {
  admin: string;
  tokens: Record<Person, string>;
  /** Credential of the CT scanner ct-a1 (group ct-scanners). */
  ct: string;
}

export async function createApprovalWorld(baseUrl: string, deviceId = 'ct-a1'): Promise<ApprovalWorld> {
  const admin = await login(baseUrl);
  const tokens = {} as Record<Person, string>;
  for (const [username, p] of Object.entries(PEOPLE) as [Person, (typeof PEOPLE)[Person]][]) {
    const res = await api(baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username, password: APPROVER_PASSWORD, email: p.email, groups: [...p.groups] },
    });
    if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    tokens[username] = await login(baseUrl, username, APPROVER_PASSWORD);
  }
  const ct = await enrollDevice(baseUrl, admin, { deviceId, model: 'SOMATOM X.cite', site: 'Main campus' });
  return { admin, tokens, ct };
}

/** Extra approvers in `group`, signed in (for the race tests). */
export async function moreApprovers(baseUrl: string, admin: string, prefix: string, group: string, n: number) {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const username = `${prefix}${i}`;
    const res = await api(baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username, password: APPROVER_PASSWORD, groups: [group] },
    });
    if (res.status !== 201) throw new Error(`creating ${username}: ${res.status}`);
    tokens.push(await login(baseUrl, username, APPROVER_PASSWORD));
  }
  return tokens;
}

/** A software install on a CT scanner: acme-ct-installs, 2 approvals, grants up to 240 minutes. */
export const installBody = (pkg = 'ct-firmware', over: Record<string, unknown> = {}) =>
  decisionBody({
    action: 'software-install',
    target: { package: pkg, version: '5.1.2' },
    context: { ticket: 'INC-4711', reason: 'Firmware fix for the gantry' },
    ...over,
  });

/** A file upload into /opt on a CT scanner: acme-file-transfers-ask, 1 approval, no grants. */
export const uploadBody = (path = '/opt/acme/update.bin') => decisionBody({ action: 'file-upload', target: { path } });

/** Asks as the device; expects a pending answer and returns the request id. */
export async function askPending(baseUrl: string, device: string, body: { requestId: string }): Promise<string> {
  const res = await api(baseUrl, 'POST', '/api/v1/agent/decisions', { token: device, body });
  if (res.status !== 200 || res.body.status !== 'pending')
    throw new Error(`expected pending, got ${res.status} ${JSON.stringify(res.body)}`);
  return body.requestId;
}
