import { Inject, Injectable } from '@nestjs/common';
import type { PackRule } from '@casl/ability/extra';
import { DataSource } from 'typeorm';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { withDeadline } from '../common/deadline.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { DeviceEntity } from '../devices/device.entity.js';
import { groupsOfDevice } from '../devices/device-groups-of.js';
import { DeviceGrouper } from '../policies/engine/device-groups.js';
import { offlineRulesFor } from '../policies/engine/offline-policy.js';
import type { PolicyCaslRule } from '../policies/engine/rule-conditions.js';
import type { PolicySet } from '../policies/policy.types.js';
import { PolicyService } from '../policies/policy.service.js';
import { SigningKeysService } from '../signing/signing-keys.service.js';

/** What GET /api/v1/agent/policy answers (agent-api.md 1.1). */
export interface SignedOfflinePolicy {
  deviceId: string;
  /** The policy set version the rules come from: offline decisions name it. */
  version: string;
  issuedAt: string;
  validUntil: string;
  rules: PackRule<PolicyCaslRule>[];
  keyId: string;
  signature: string;
}

/**
 * The rules a device may act on while Gatehouse cannot be reached, signed by the appliance.
 * Each issue is recorded (device, version, latest validUntil) so that an uploaded offline
 * decision is checked against a policy the device really held, at a time it was valid.
 */
@Injectable()
export class OfflinePolicyService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly policies: PolicyService,
    private readonly keys: SigningKeysService,
    private readonly clock: Clock,
  ) {}

  async issue(device: DeviceEntity): Promise<SignedOfflinePolicy> {
    const set = this.policies.set;
    if (!set) throw new ApiError(ErrorCode.Unavailable, 'No valid policy set is loaded: no offline policy to give');
    const issuedAt = this.clock.now();
    const validUntil = new Date(issuedAt.getTime() + this.config.OFFLINE_POLICY_HOURS * 3_600_000);
    // Recorded before the policy leaves: no device holds a policy that uploads cannot be checked against.
    await withDeadline(
      this.dataSource.query(
        `INSERT INTO offline_policy_issues (device_id, policy_version, first_issued_at, valid_until)
         VALUES ($1, $2, $3, $4) ON CONFLICT (device_id, policy_version)
         DO UPDATE SET valid_until = GREATEST(offline_policy_issues.valid_until, EXCLUDED.valid_until)`,
        [device.id, set.version, issuedAt, validUntil],
      ),
      this.config.DATABASE_TIMEOUT_MS,
      'Offline policy record',
    );
    return this.keys.sign({
      deviceId: device.id,
      version: set.version,
      issuedAt: issuedAt.toISOString(),
      validUntil: validUntil.toISOString(),
      rules: packedOfflineRules(set, device),
    });
  }
}

/**
 * The device's offline rules in the form they travel: plain JSON (what is signed is exactly
 * what the agent parses). The device's groups are those of this set's definitions.
 */
export function packedOfflineRules(set: PolicySet, device: DeviceEntity): PackRule<PolicyCaslRule>[] {
  const groups = groupsOfDevice(device, new DeviceGrouper(set.deviceGroups));
  return JSON.parse(JSON.stringify(offlineRulesFor(set, groups))) as PackRule<PolicyCaslRule>[];
}
