import { createMongoAbility, type MongoAbility } from '@casl/ability';
import { ActionIndex } from './action-index.js';
import { Mismatch, type CompiledRule } from './compiled-rule.js';
import type { DecisionInput } from './decision.types.js';

type DeviceAbility = MongoAbility<[string, 'Device']>;

const MAX_CACHED_USERS = 20_000;

interface UserEntry {
  enterprise: string | undefined;
  groups: string[];
  ability: DeviceAbility;
  /** Per action index: the rules the ability gives this user for that action, as bits. */
  bits: Map<ActionIndex, Uint32Array>;
}

/**
 * The rules of a policy set as CASL abilities, one per remote user (id, enterprise and
 * groups as the vendor reports them), built on first use and cached until the set
 * changes. The ability says which rules apply to the user for an action; that answer is
 * kept as a bitset per action (ActionIndex), so a decision is a few word ANDs with the
 * device's groups (measured: p50 ~5 µs → ~1.3 µs at 2,000 rules) before the engine checks
 * target, time and state on the rules left. Rules are built here from the validated policy
 * set only (never from free text).
 */
export class UserAbilities {
  /** By user id: the abilities for each (enterprise, groups) seen with it. */
  private readonly cache = new Map<string, UserEntry[]>();
  private cached = 0;
  private readonly byAction: Map<string, ActionIndex>;
  private readonly otherActions: ActionIndex;
  private readonly scratch: Uint32Array;

  constructor(private readonly rules: CompiledRule[]) {
    ({ byAction: this.byAction, otherActions: this.otherActions } = ActionIndex.build(rules));
    this.scratch = new Uint32Array(
      Math.max(this.otherActions.words, ...[...this.byAction.values()].map((i) => i.words)),
    );
  }

  /** The user's rules that apply to this action on this device, in policy order. */
  candidates(input: DecisionInput): CompiledRule[] {
    const index = this.byAction.get(input.action) ?? this.otherActions;
    const entry = this.forUser(input.remoteUser);
    let bits = entry.bits.get(index);
    if (bits === undefined) {
      bits = new Uint32Array(index.words);
      for (const rule of entry.ability.rulesFor(input.action, 'Device')) {
        const j = index.position.get(rule.reason!);
        if (j !== undefined) bits[j >>> 5] |= 1 << (j & 31);
      }
      entry.bits.set(index, bits);
    }
    return index.select(input.device.groups, bits, this.scratch);
  }

  private forUser(user: DecisionInput['remoteUser']): UserEntry {
    const groups = user.groups ?? [];
    const seen = this.cache.get(user.id);
    if (seen) {
      for (const e of seen) if (e.enterprise === user.enterprise && sameList(e.groups, groups)) return e;
    }
    const mine = this.rules.filter((r) => r.remoteUserMismatch(user) === Mismatch.None);
    const entry: UserEntry = {
      enterprise: user.enterprise,
      groups: [...groups],
      // CASL gives later rules priority; the engine's precedence does not depend on order.
      ability: createMongoAbility<DeviceAbility>(mine.map((r) => r.toCaslRule()) as never),
      bits: new Map(),
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

/** Plain loop: this runs on every decision (an `every` callback measured slower). */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
