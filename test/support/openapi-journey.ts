import { randomUUID } from 'node:crypto';
import { decisionBody, enrollDevice } from './agent.js';
import { askPending, installBody, uploadBody, type ApprovalWorld } from './approvers.js';
import { api, login } from './test-app.js';

export interface RecordedAnswer {
  method: string;
  route: string;
  status: number;
  body: unknown;
}

/**
 * Calls the routes that change things, as a hospital and a device would in a day, and
 * records every answer (route template, status, body) to check against the document.
 */
export async function recordChangingRoutes(baseUrl: string, w: ApprovalWorld): Promise<RecordedAnswer[]> {
  const answers: RecordedAnswer[] = [];
  const call = async (method: string, route: string, token?: string, body?: unknown, params: string[] = []) => {
    let i = 0;
    const path = route.replace(/\{[^}]+\}/g, () => encodeURIComponent(params[i++]));
    const res = await api(baseUrl, method, path, { token, body });
    answers.push({ method, route, status: res.status, body: res.body });
    return res;
  };
  const admin = w.admin;
  await call('POST', '/api/v1/auth/login', undefined, { username: 'admin', password: 'wrong-password-here' });
  await call('GET', '/api/v1/auth/me', admin);

  const user = await call('POST', '/api/v1/users', admin, {
    username: 'erin',
    password: 'correct-horse-for-the-night',
  });
  const id = (user.body as { id: string }).id;
  await call('POST', '/api/v1/users', admin, { username: 'erin', password: 'correct-horse-for-the-night' });
  await call('GET', '/api/v1/users/{id}', admin, undefined, [id]);
  await call('GET', '/api/v1/users/{id}', admin, undefined, [randomUUID()]);
  await call('PATCH', '/api/v1/users/{id}', admin, { disabled: true }, [id]);
  await call('POST', '/api/v1/users/{username}/password', admin, { password: 'another-long-password' }, ['erin']);
  await call('POST', '/api/v1/users/{username}/unlock', admin, undefined, ['erin']);
  await call('POST', '/api/v1/groups', admin, { name: 'Night-Shift' });
  await call('PUT', '/api/v1/groups/{group}/members/{username}', admin, undefined, ['Night-Shift', 'erin']);
  await call('DELETE', '/api/v1/groups/{group}/members/{username}', admin, undefined, ['Night-Shift', 'erin']);

  const token = await call('POST', '/api/v1/enrollment-tokens', admin, { expiresInHours: 1, maxUses: 1 });
  const { id: tokenId, token: secret } = token.body as { id: string; token: string };
  await call('POST', '/api/v1/agent/enroll', secret, { deviceId: 'ct-j2', model: 'SOMATOM X.cite' });
  await call('POST', '/api/v1/enrollment-tokens/{id}/revoke', admin, undefined, [tokenId]);
  const device = await enrollDevice(baseUrl, admin, { deviceId: 'ct-j3', model: 'SOMATOM X.cite' });
  await call('POST', '/api/v1/agent/heartbeat', device, { agentVersion: '1.2.3', state: { mode: 'service' } });

  const pending = await askPending(baseUrl, w.ct, uploadBody());
  await call('POST', '/api/v1/agent/decisions/{requestId}/cancel', w.ct, undefined, [pending]);
  await call('POST', '/api/v1/agent/decisions/{requestId}/cancel', w.ct, undefined, [pending]);
  await call('POST', '/api/v1/agent/decisions/{requestId}/complete', w.ct, { outcome: 'succeeded' }, [pending]);
  const rejected = await askPending(baseUrl, w.ct, uploadBody());
  await call('POST', '/api/v1/approvals/{requestId}/reject', w.tokens.alice, { comment: 'not now' }, [rejected]);
  const install = await askPending(baseUrl, w.ct, installBody('journey-grant'));
  await call('POST', '/api/v1/approvals/{requestId}/approve', w.tokens.alice, { grantMinutes: 60 }, [install]);
  const approved = await call('POST', '/api/v1/approvals/{requestId}/approve', w.tokens.bob, { grantMinutes: 60 }, [
    install,
  ]);
  const grant = (approved.body as { grant: { id: string } }).grant.id;
  await call('GET', '/api/v1/grants', admin);
  await call('POST', '/api/v1/grants/{grantId}/end', admin, undefined, [grant]);
  await call('POST', '/api/v1/grants/{grantId}/end', admin, undefined, [grant]);

  const rule = { id: 'journey-deny-x', effect: 'deny', actions: ['x-journey'], devices: ['ct-scanners'] };
  await call('POST', '/api/v1/policies/console-rules', admin, { rule });
  await call('POST', '/api/v1/policies/console-rules', admin, { rule });
  await call('POST', '/api/v1/policies/console-rules', admin, {
    rule: { ...rule, id: 'journey-bad', devices: ['no-such-group'] },
  });
  await call('PUT', '/api/v1/policies/console-rules/{id}', admin, { rule: { ...rule, effect: 'allow' } }, [rule.id]);
  await call('GET', '/api/v1/policies/console-rules', admin);
  await call('DELETE', '/api/v1/policies/console-rules/{id}', admin, undefined, [rule.id]);
  await call('POST', '/api/v1/policies/reload', admin);
  const simulated = { deviceId: 'ct-a1', action: 'remote-session', remoteUser: decisionBody().remoteUser };
  await call('POST', '/api/v1/policies/simulate', admin, simulated);
  await call('POST', '/api/v1/directory/sync', admin, { kind: 'full' });

  await call('POST', '/api/v1/devices/{deviceId}/revoke', admin, undefined, ['ct-j3']);
  await call('POST', '/api/v1/devices/{deviceId}/reset', admin, undefined, ['ct-j3']);
  await call('POST', '/api/v1/auth/logout', await login(baseUrl));
  return answers;
}
