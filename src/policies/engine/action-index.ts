import type { CompiledRule } from './compiled-rule.js';

/** Effect codes, so the hot path compares small integers instead of strings. */
export enum EffectCode {
  Deny = 0,
  Ask = 1,
  Allow = 2,
}

/** An action no rule can name (actions are catalogue names or x-…): CASL gives it the '*' rules only. */
export const OTHER_ACTION = ' any other action';

/**
 * The rules that apply to one action, with the device groups they cover as bitsets (bit j
 * = the action's j-th rule, in policy order): a decision ORs the bitsets of its device's
 * groups, ANDs the remote user's (user-abilities.ts), and looks only at the rules left.
 */
export class ActionIndex {
  readonly words: number;
  /** Rules on every device ('*'). */
  readonly anyDevice: Uint32Array;
  readonly byGroup = new Map<string, Uint32Array>();
  /** By rule number in the whole set: the rule's bit here, or -1 when the rule is not for this action. */
  readonly positionOf: Int32Array;
  /** The rules here as bits by rule number in the whole set (bit k = rule k). */
  readonly members: Uint32Array;
  readonly effects: Uint8Array;
  /** Each rule's place among all rule ids sorted as Array.prototype.sort() sorts them. */
  readonly ranks: Int32Array;

  constructor(
    /** The action asked of CASL for this index. */
    readonly action: string,
    readonly rules: CompiledRule[],
    numbers: Map<CompiledRule, number>,
    idRanks: Int32Array,
    /** Where this action's words start in a remote user's block of bits (user-abilities.ts). */
    readonly offset: number,
  ) {
    this.words = Math.max(1, Math.ceil(rules.length / 32));
    this.anyDevice = new Uint32Array(this.words);
    this.positionOf = new Int32Array(idRanks.length).fill(-1);
    this.members = new Uint32Array(Math.max(1, Math.ceil(idRanks.length / 32)));
    this.effects = Uint8Array.from(rules, (r) => effectCode(r.rule.effect));
    this.ranks = Int32Array.from(rules, (r) => idRanks[numbers.get(r)!]);
    rules.forEach((rule, j) => {
      const k = numbers.get(rule)!;
      this.positionOf[k] = j;
      this.members[k >>> 5] |= 1 << (k & 31);
      for (const group of rule.allDevices ? [null] : rule.deviceGroups) {
        let bits = group === null ? this.anyDevice : this.byGroup.get(group);
        if (bits === undefined) this.byGroup.set(group!, (bits = new Uint32Array(this.words)));
        bits[j >>> 5] |= 1 << (j & 31);
      }
    });
  }
}

/** One index per action named by a rule, and one for every other action (rules on '*' only). */
export class ActionIndexes {
  readonly byAction = new Map<string, ActionIndex>();
  readonly other: ActionIndex;
  readonly all: ActionIndex[] = [];
  /** The words of all indexes together: one remote user's block. */
  readonly blockWords: number;
  /** The most rules any one action has. */
  readonly maxRules: number;

  constructor(rules: CompiledRule[]) {
    const numbers = new Map(rules.map((r, k) => [r, k]));
    const order = rules.map((_, k) => k).sort((a, b) => compareIds(rules[a].id, rules[b].id));
    const idRanks = new Int32Array(rules.length);
    order.forEach((k, rank) => (idRanks[k] = rank));
    let offset = 0;
    const add = (action: string, own: CompiledRule[]) => {
      const index = new ActionIndex(action, own, numbers, idRanks, offset);
      offset += index.words;
      this.all.push(index);
      return index;
    };
    for (const action of new Set(rules.flatMap((r) => [...r.actions]))) {
      if (action === '*') continue; // rules for '*' are in every index
      this.byAction.set(
        action,
        add(
          action,
          rules.filter((r) => r.allActions || r.actions.has(action)),
        ),
      );
    }
    this.other = add(
      OTHER_ACTION,
      rules.filter((r) => r.allActions),
    );
    this.blockWords = offset;
    this.maxRules = Math.max(...this.all.map((i) => i.rules.length));
  }

  forAction(action: string): ActionIndex {
    return this.byAction.get(action) ?? this.other;
  }
}

function effectCode(effect: string): EffectCode {
  return effect === 'deny' ? EffectCode.Deny : effect === 'ask' ? EffectCode.Ask : EffectCode.Allow;
}

/** The order of the default Array.prototype.sort() on strings (UTF-16 code units). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
