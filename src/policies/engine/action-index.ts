import type { CompiledRule } from './compiled-rule.js';

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
  /** A rule's bit, by rule id. */
  readonly position = new Map<string, number>();

  constructor(readonly rules: CompiledRule[]) {
    this.words = Math.max(1, Math.ceil(rules.length / 32));
    this.anyDevice = new Uint32Array(this.words);
    rules.forEach((rule, j) => {
      this.position.set(rule.id, j);
      for (const group of rule.allDevices ? [null] : rule.deviceGroups) {
        let bits = group === null ? this.anyDevice : this.byGroup.get(group);
        if (bits === undefined) this.byGroup.set(group!, (bits = new Uint32Array(this.words)));
        bits[j >>> 5] |= 1 << (j & 31);
      }
    });
  }

  /** One index per action named by a rule, and one for every other action (rules on '*' only). */
  static build(rules: CompiledRule[]): { byAction: Map<string, ActionIndex>; otherActions: ActionIndex } {
    const named = new Set(rules.flatMap((r) => [...r.actions]));
    const byAction = new Map<string, ActionIndex>();
    for (const action of named)
      byAction.set(action, new ActionIndex(rules.filter((r) => r.allActions || r.actions.has(action))));
    return { byAction, otherActions: new ActionIndex(rules.filter((r) => r.allActions)) };
  }

  /** The rules both on one of these device groups and set in `userBits`, in policy order. */
  select(deviceGroups: ReadonlySet<string>, userBits: Uint32Array, scratch: Uint32Array): CompiledRule[] {
    const words = this.words;
    for (let i = 0; i < words; i++) scratch[i] = this.anyDevice[i] & userBits[i];
    for (const group of deviceGroups) {
      const bits = this.byGroup.get(group);
      if (bits !== undefined) for (let i = 0; i < words; i++) scratch[i] |= bits[i] & userBits[i];
    }
    const out: CompiledRule[] = [];
    for (let i = 0; i < words; i++) {
      let w = scratch[i];
      while (w !== 0) {
        const low = w & -w;
        out.push(this.rules[i * 32 + 31 - Math.clz32(low)]);
        w ^= low;
      }
    }
    return out;
  }
}
