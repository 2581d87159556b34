import { randomUUID } from 'node:crypto';
import { api } from './test-app.js';

/** Creates an enrollment token as `admin` and enrolls a device; returns its credential. */
export async function enrollDevice(
  baseUrl: string,
  adminToken: string,
  device: { deviceId: string; model: string; site?: string },
): Promise<string> {
  const token = await api(baseUrl, 'POST', '/api/v1/enrollment-tokens', {
    token: adminToken,
    body: { expiresInHours: 1, maxUses: 1 },
  });
  const res = await api(baseUrl, 'POST', '/api/v1/agent/enroll', { token: token.body.token, body: device });
  if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.credential as string;
}

export function decisionBody(over: Record<string, unknown> = {}) {
  return {
    requestId: randomUUID(),
    action: 'remote-session',
    remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
    ...over,
  };
}
