import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PolicyService } from '../policies/policy.service.js';
import type { PolicySet } from '../policies/policy.types.js';

/** Policy sets kept in memory by version; a version's content never changes. */
const MAX_CACHED_SETS = 20;

/**
 * Any policy set that was ever in force, by version: the one in force from memory, older ones
 * from policy_versions (stored as JSON by PolicyService). An offline decision names the
 * version its device held, which may have been replaced since it was fetched.
 */
@Injectable()
export class PolicyVersions {
  private readonly cache = new Map<string, PolicySet>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: PolicyService,
  ) {}

  /** The set of this version, or null when no such version was ever in force. */
  async get(version: string): Promise<PolicySet | null> {
    const current = this.policies.set;
    if (current?.version === version) return current;
    const cached = this.cache.get(version);
    if (cached) return cached;
    const rows = await this.dataSource.query<{ content: PolicySet }[]>(
      'SELECT content FROM policy_versions WHERE version = $1',
      [version],
    );
    if (rows.length === 0) return null;
    const set = fromStoredJson(rows[0].content);
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
