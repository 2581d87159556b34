import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { PolicyService } from '../policies/policy.service.js';

/**
 * METRICS_DEVICE_GROUPS names groups of the policy set, which may change at any time (so an
 * unknown name is not an error), but a typo would count nothing under it without a word:
 * said once at start.
 */
export class UnknownMetricsGroupsWarning implements OnApplicationBootstrap {
  constructor(
    private readonly listed: readonly string[],
    private readonly policies: PolicyService,
  ) {}

  onApplicationBootstrap(): void {
    const set = this.policies.set;
    if (!set || this.listed.length === 0) return;
    const known = new Set(set.deviceGroups.map((g) => g.name));
    const unknown = this.listed.filter((g) => !known.has(g));
    if (unknown.length > 0) {
      new Logger('Metrics').warn(
        `METRICS_DEVICE_GROUPS names ${unknown.join(', ')}, not a device group of policy set ${set.version.slice(0, 12)}: nothing is counted under ${unknown.length > 1 ? 'them' : 'it'} until the policy files define ${unknown.length > 1 ? 'them' : 'it'}`,
      );
    }
  }
}
