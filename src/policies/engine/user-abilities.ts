import { createMongoAbility, subject, type MongoAbility } from '@casl/ability';
import { Mismatch, type CompiledRule } from './compiled-rule.js';
import type { DecisionInput } from './decision.types.js';

type DeviceAbility = MongoAbility<[string, 'Device' | { groups: string[] }]>;

const MAX_CACHED_USERS = 20_000;

/**
 * The rules of a policy set as CASL abilities, one per remote user (id, enterprise and
 * groups as the vendor reports them), built on first use and cached until the set
 * changes. CASL indexes a user's rules by action and matches the device-group
 * conditions; the engine then checks target, time and device state.
 * Conditions are built here from the validated policy set only (never from free text).
 */
export class UserAbilities {
  private readonly cache = new Map<string, { ability: DeviceAbility; byId: Map<string, CompiledRule> }>();
  private readonly arrays = new WeakMap<ReadonlySet<string>, { groups: string[] }>();

  constructor(private readonly rules: CompiledRule[]) {}

  /** The user's rules that apply to this action on this device, in policy order. */
  candidates(input: DecisionInput): CompiledRule[] {
    const entry = this.forUser(input.remoteUser);
    const device = this.deviceSubject(input.device.groups);
    const out: CompiledRule[] = [];
    for (const rule of entry.ability.rulesFor(input.action, 'Device')) {
      if (rule.matchesConditions(device)) out.push(entry.byId.get(rule.reason!)!);
    }
    return out;
  }

  private forUser(user: DecisionInput['remoteUser']) {
    const key = `${user.id}\u0001${user.enterprise ?? ''}\u0001${(user.groups ?? []).join('\u0002')}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const mine = this.rules.filter((r) => r.remoteUserMismatch(user) === Mismatch.None);
      entry = {
        // CASL gives later rules priority; the engine's precedence does not depend on order.
        ability: createMongoAbility<DeviceAbility>(mine.map((r) => r.toCaslRule()) as never),
        byId: new Map(mine.map((r) => [r.id, r])),
      };
      if (this.cache.size >= MAX_CACHED_USERS) this.cache.clear(); // bounded memory
      this.cache.set(key, entry);
    }
    return entry;
  }

  private deviceSubject(groups: ReadonlySet<string>) {
    let s = this.arrays.get(groups);
    if (!s) {
      s = subject('Device', { groups: [...groups] });
      this.arrays.set(groups, s);
    }
    return s;
  }
}
