import { createMongoAbility, type MongoAbility } from '@casl/ability';
import { Mismatch, type CompiledRule } from './compiled-rule.js';
import type { DecisionInput } from './decision.types.js';

type DeviceAbility = MongoAbility<[string, 'Device']>;

const MAX_CACHED_USERS = 20_000;

interface UserEntry {
  enterprise: string | undefined;
  groups: string[];
  ability: DeviceAbility;
  byId: Map<string, CompiledRule>;
}

/**
 * The rules of a policy set as CASL abilities, one per remote user (id, enterprise and
 * groups as the vendor reports them), built on first use and cached until the set
 * changes. CASL indexes a user's rules by action; the engine then checks the device's
 * groups (plain set look-ups: measured faster than CASL conditions), target, time and state.
 * Rules are built here from the validated policy set only (never from free text).
 */
export class UserAbilities {
  /** By user id: the abilities for each (enterprise, groups) seen with it. */
  private readonly cache = new Map<string, UserEntry[]>();
  private cached = 0;

  constructor(private readonly rules: CompiledRule[]) {}

  /** The user's rules that apply to this action on this device, in policy order. */
  candidates(input: DecisionInput): CompiledRule[] {
    const entry = this.forUser(input.remoteUser);
    const groups = input.device.groups;
    const out: CompiledRule[] = [];
    for (const rule of entry.ability.rulesFor(input.action, 'Device')) {
      const compiled = entry.byId.get(rule.reason!)!;
      if (compiled.deviceMatches(groups)) out.push(compiled);
    }
    return out;
  }

  private forUser(user: DecisionInput['remoteUser']): UserEntry {
    const groups = user.groups ?? [];
    const seen = this.cache.get(user.id);
    if (seen) {
      for (const e of seen) {
        if (
          e.enterprise === user.enterprise &&
          e.groups.length === groups.length &&
          e.groups.every((g, i) => g === groups[i])
        ) {
          return e;
        }
      }
    }
    const mine = this.rules.filter((r) => r.remoteUserMismatch(user) === Mismatch.None);
    const entry: UserEntry = {
      enterprise: user.enterprise,
      groups: [...groups],
      // CASL gives later rules priority; the engine's precedence does not depend on order.
      ability: createMongoAbility<DeviceAbility>(mine.map((r) => r.toCaslRule()) as never),
      byId: new Map(mine.map((r) => [r.id, r])),
    };
    if (this.cached >= MAX_CACHED_USERS) {
      this.cache.clear(); // bounded memory
      this.cached = 0;
    }
    if (seen) seen.push(entry);
    else this.cache.set(user.id, [entry]);
    this.cached += 1;
    return entry;
  }
}
