import { Injectable } from '@nestjs/common';
import { PolicyService } from '../policies/policy.service.js';
import type { PolicySet } from '../policies/policy.types.js';

/** Policy sets kept in memory by version; a version's content never changes. */
const MAX_CACHED_SETS = 20;

/**
 * Any policy set that was ever in force, by version: the one in force from memory, older ones
 * as PolicyService stored them (as JSON). An offline decision names the version its device
 * held, which may have been replaced since it was fetched.
 */
@Injectable()
export class PolicyVersions {
  private readonly cache = new Map<string, PolicySet>();

  constructor(private readonly policies: PolicyService) {}

  /** The set of this version, or null when no such version was ever in force. */
  async get(version: string): Promise<PolicySet | null> {
    const current = this.policies.set;
    if (current?.version === version) return current;
    const cached = this.cache.get(version);
    if (cached) return cached;
    const stored = await this.policies.storedVersion(version);
    if (!stored) return null;
    const set = fromStoredJson(stored);
    if (this.cache.size >= MAX_CACHED_SETS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(version, set);
    return set;
  }
}

/** The stored JSON of a set, with the instants of its rules' `when` as Dates again (as the loader gives them). */
export function fromStoredJson(content: PolicySet): PolicySet {
  const date = (value: unknown) => (value === undefined || value === null ? undefined : new Date(value as string));
  return {
    ...content,
    rules: content.rules.map((rule) =>
      rule.when
        ? {
            ...rule,
            when: { ...rule.when, validFrom: date(rule.when.validFrom), validUntil: date(rule.when.validUntil) },
          }
        : rule,
    ),
  };
}
