/**
 * The offline policy (agent-api.md 1.1): verified with the appliance's public key, then
 * evaluated with the server's own code. The rule operators, the subject and the ability
 * are compiled in from Gatehouse's sources (src/policies/engine, src/signing: pure files, no
 * NestJS), so the SDK decides offline exactly as Gatehouse checks an uploaded decision.
 */
import type { PackRule } from '@casl/ability/extra';
import { offlineAbility } from '../../src/policies/engine/offline-policy.js';
import { requestSubject, type PolicyCaslRule } from '../../src/policies/engine/rule-conditions.js';
import { verifyPayload } from '../../src/signing/signatures.js';
import type { DecideRequest, OfflinePolicy, PublicKeys } from './api-types.js';

/** Why an offline policy may not be used; the agent then denies everything offline. */
export class OfflinePolicyRefused extends Error {
  constructor(reason: string) {
    super(`offline policy refused: ${reason}`);
    this.name = 'OfflinePolicyRefused';
  }
}

/** A policy whose signature and validity were checked, with its rules ready to evaluate. */
export interface VerifiedOfflinePolicy {
  policy: OfflinePolicy;
  validUntil: number;
  can(request: Omit<DecideRequest, 'requestId'>, deviceState: Record<string, unknown> | null, now: number): boolean;
}

/**
 * Checks the signature (Ed25519 over the RFC 8785 JSON of every other field, with the key
 * named by keyId, current or retired) and the validity at `now`; throws OfflinePolicyRefused.
 */
export function verifyOfflinePolicy(policy: OfflinePolicy, keys: PublicKeys, now: number): VerifiedOfflinePolicy {
  const { signature, ...signed } = policy;
  const key = [keys, ...keys.previousKeys].find((k) => k.keyId === policy.keyId);
  if (!key) throw new OfflinePolicyRefused(`key ${policy.keyId} is not one of the appliance's keys`);
  if (!verifyPayload(signed, signature, key.publicKey)) throw new OfflinePolicyRefused('the signature does not match');
  const validUntil = Date.parse(policy.validUntil);
  if (!Number.isFinite(validUntil) || now >= validUntil) {
    throw new OfflinePolicyRefused(`expired at ${policy.validUntil}`);
  }
  const ability = offlineAbility(policy.rules as PackRule<PolicyCaslRule>[]);
  return {
    policy,
    validUntil,
    can(request, deviceState, at) {
      // Past its validity the policy allows nothing (checked at each decision, not only once).
      if (at >= validUntil) return false;
      const subject = requestSubject({
        remoteUser: request.remoteUser,
        target: request.target,
        context: request.context,
        // The rules are this device's already: its groups are resolved by the server.
        device: { groups: new Set(), state: deviceState, stateReportedAt: at },
        now: at,
        stateMaxAgeMs: 0,
      });
      return ability.can(request.action, subject as never);
    },
  };
}
