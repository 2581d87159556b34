import { createMongoAbility, type MongoAbility } from '@casl/ability';
import type { ActionIndexes } from './action-index.js';
import { BlockStore } from './block-store.js';
import type { CompiledRule } from './compiled-rule.js';
import type { DecisionInput } from './decision.types.js';
import { RemoteUserIndex } from './remote-user-index.js';

type DeviceAbility = MongoAbility<[string, 'Device']>;
type RemoteUser = DecisionInput['remoteUser'];

const MAX_CACHED_USERS = 20_000;
/**
 * Bound on the parts' abilities kept (a 404-byte block each in the bench): users share most of
 * them, but a user may bring up to one new one per part of the set.
 */
const MAX_PART_ABILITIES = 40_000;
const NO_GROUPS: readonly string[] = [];

/** Answers kept in `bits`: where the block starts, and the rules they are about. */
interface Block {
  rules: Uint32Array;
  base: number;
  /** Another block whose rules hash the same. */
  next: Block | undefined;
}

/** A part's block: its rules are the words from `from` on. */
interface PartBlock extends Block {
  from: number;
  next: PartBlock | undefined;
}

/** Words of rule bits (32 rules each) per part of the policy set that has its own abilities. */
const PART_WORDS = 8;
export const RULES_PER_PART = PART_WORDS * 32;

interface UserEntry {
  enterprise: string | undefined;
  groups: readonly string[];
  base: number;
  /** The same user id seen with another enterprise or other groups. */
  next: UserEntry | undefined;
}

/**
 * The rules of a policy set as CASL abilities per remote user (id, enterprise and groups as
 * the vendor reports them), built on first use; what they answer is cached until the set
 * changes. Rules are built here from the validated policy set only (never from free text).
 *
 * A new user's rules come from RemoteUserIndex (a few bitset ANDs instead of testing every
 * rule's globs). Abilities built from them are asked, once, which rules apply to each
 * action (rulesFor); the answers are kept as bits in one block, laid out as the
 * ActionIndexes, so a decision reads a few words at `baseFor(user) + index.offset` and ANDs
 * them with its device's groups before the engine checks target, time and state. Users to
 * whom exactly the same rules apply share one block.
 *
 * A user's rules are compiled in parts of the policy set (RULES_PER_PART rules each, in
 * policy order), one CASL ability per part the user has rules in, shared by every user
 * with the same rules in that part; the user's block is the answers of those abilities
 * together (rules without conditions: what rulesFor gives for the whole is what it gives
 * for the parts). Users who differ differ in a few rules, so a new user mostly needs one
 * small new ability rather than one of all their rules: in the bench (2,000 rules, ~43
 * per user) the first 1,000 users' abilities came to ~1,300 abilities of ~5 rules instead
 * of ~630 of ~43, and a new user's first decision took a median 15 µs instead of 30 µs.
 *
 * The abilities themselves are not kept (but for the last one, see lastAbility): their
 * answers are all that decisions read, and keeping ~8 KB of CASL objects per user made
 * every young-generation GC during the first requests copy them (4.5 MB survived a
 * scavenge in the bench's first 1,000 calls, against 0.6 MB).
 */
export class UserAbilities {
  /**
   * The users' blocks, as a field of this object rather than a getter of userBlocks: one
   * load less on every decision. Read it after baseFor(), which may replace it with a
   * bigger array.
   */
  bits: Uint32Array;
  /** The users' blocks (decisions read these). */
  private readonly userBlocks: BlockStore;
  /** The parts' blocks (read only to make users' blocks), apart so that users' blocks stay close together. */
  private readonly partBlocks: BlockStore;
  private readonly users: RemoteUserIndex;
  private readonly cache = new Map<string, UserEntry>();
  private cached = 0;
  /**
   * Each distinct list of user groups, kept once: entries share it, so the comparison on
   * every decision reads a few arrays that stay in cache rather than one copy per user.
   */
  private readonly groupLists = new Map<string, readonly string[]>();
  /**
   * Blocks by a hash of the bits of the rules they were built from. A hash, not the bits as
   * a string key: building that string allocated ~9 KB per new user (String.fromCharCode
   * of the spread halves), about half of what a new user's first decision allocated.
   */
  private readonly userBlocksByRules = new Map<number, Block>();
  private readonly partBlocksByRules = new Map<number, PartBlock>();
  private built = 0;
  /**
   * The last ability built, kept (and only it): V8's optimized code for building and asking
   * abilities depends on the hidden classes of CASL's objects, and when no such object was
   * left alive after warmUp, the next full GC collected those classes and threw the code
   * away ("weak objects"), so the first real users' abilities were built by unoptimized code.
   */
  private lastAbility: DeviceAbility | undefined;
  private readonly caslRules: ReturnType<CompiledRule['toCaslRule']>[];
  private readonly numbers: Map<string, number>;
  private readonly mine: Uint32Array;

  constructor(
    rules: CompiledRule[],
    private readonly indexes: ActionIndexes,
  ) {
    this.users = new RemoteUserIndex(rules);
    this.mine = new Uint32Array(this.users.words);
    this.caslRules = rules.map((r) => r.toCaslRule());
    this.numbers = new Map(rules.map((r, k) => [r.id, k]));
    this.userBlocks = new BlockStore(indexes.blockWords, 64);
    this.bits = this.userBlocks.bits;
    this.partBlocks = new BlockStore(indexes.blockWords, 64);
  }

  /** Where the user's block starts in `bits` (read `bits` after this call: it may grow). */
  baseFor(user: RemoteUser): number {
    const groups = user.groups ?? NO_GROUPS;
    const first = this.cache.get(user.id);
    for (let e = first; e !== undefined; e = e.next) {
      if (e.enterprise === user.enterprise && sameList(e.groups, groups)) return e.base;
    }
    return this.add(user, groups, first).base;
  }

  /** How many abilities were built since the cache was last emptied. */
  get abilitiesBuilt(): number {
    return this.built;
  }

  warmUp(): void {
    this.users.warmUp();
  }

  /** Forgets every user and ability (bounded memory; also after a warm-up with made-up users). */
  clear(): void {
    this.cache.clear();
    this.userBlocksByRules.clear();
    this.partBlocksByRules.clear();
    this.built = 0;
    this.groupLists.clear();
    this.cached = 0;
    this.userBlocks.clear();
    this.partBlocks.clear();
  }

  private add(user: RemoteUser, groups: readonly string[], first: UserEntry | undefined): UserEntry {
    if (this.cached >= MAX_CACHED_USERS || this.built >= MAX_PART_ABILITIES) {
      this.clear();
      first = undefined;
    }
    this.users.applicable(user, this.mine);
    const base = this.blockFor(this.mine);
    const entry: UserEntry = { enterprise: user.enterprise, groups: this.groupList(groups), base, next: first };
    this.cache.set(user.id, entry);
    this.cached += 1;
    return entry;
  }

  private groupList(groups: readonly string[]): readonly string[] {
    const key = JSON.stringify(groups);
    let list = this.groupLists.get(key);
    if (list === undefined) this.groupLists.set(key, (list = Object.freeze([...groups])));
    return list;
  }

  /** The block of these rules' answers, made unless one was. */
  private blockFor(rules: Uint32Array): number {
    const hash = hashBits(rules, 0, rules.length);
    const first = this.userBlocksByRules.get(hash);
    for (let b = first; b !== undefined; b = b.next) if (sameBits(b.rules, rules, 0)) return b.base;
    const base = this.newBlock(rules);
    this.userBlocksByRules.set(hash, { rules: rules.slice(), base, next: first });
    return base;
  }

  /** A block for `rules`: the answers of the abilities of its parts, together. */
  private newBlock(rules: Uint32Array): number {
    const parts: number[] = [];
    for (let from = 0; from < rules.length; from += PART_WORDS) {
      const to = Math.min(from + PART_WORDS, rules.length);
      if (!allZero(rules, from, to)) parts.push(this.partBlockFor(rules, from, to));
    }
    const base = this.userBlocks.allocate();
    const bits = (this.bits = this.userBlocks.bits);
    const partBits = this.partBlocks.bits;
    const size = this.indexes.blockWords;
    for (const part of parts) for (let i = 0; i < size; i++) bits[base + i] |= partBits[part + i];
    return base;
  }

  /** The block of the answers of an ability of the rules in words from…to of `rules`, built unless one was. */
  private partBlockFor(rules: Uint32Array, from: number, to: number): number {
    const hash = hashBits(rules, from, to);
    const first = this.partBlocksByRules.get(hash);
    for (let b = first; b !== undefined; b = b.next)
      if (b.from === from && sameBits(b.rules, rules, from)) return b.base;
    const ability = (this.lastAbility = this.ability(rules, from, to));
    const base = this.partBlocks.allocate();
    const bits = this.partBlocks.bits;
    for (const index of this.indexes.all) {
      // Its answer would be empty: none of the part's rules is for the action. (Parts are
      // small, so most actions have none of their rules; asking anyway allocated ~1.1 KB
      // per new user's first decision in the bench, of ~9 KB.)
      if (!intersects(index.members, rules, from, to)) continue;
      for (const rule of ability.rulesFor(index.action, 'Device')) {
        const j = index.positionOf[this.numbers.get(rule.reason!)!];
        if (j >= 0) bits[base + index.offset + (j >>> 5)] |= 1 << (j & 31);
      }
    }
    this.partBlocksByRules.set(hash, { rules: rules.slice(from, to), from, base, next: first });
    this.built += 1;
    return base;
  }

  /** A CASL ability of the rules in words from…to of `rules`. */
  private ability(rules: Uint32Array, from: number, to: number): DeviceAbility {
    const raw: ReturnType<CompiledRule['toCaslRule']>[] = [];
    for (let i = from; i < to; i++) {
      for (let w = rules[i]; w !== 0; w &= w - 1) raw.push(this.caslRules[i * 32 + 31 - Math.clz32(w & -w)]);
    }
    // CASL gives later rules priority; the engine's precedence does not depend on order.
    return createMongoAbility<DeviceAbility>(raw as never);
  }
}

/** FNV-1a over the words from…to (and `from`), kept to 30 bits so that Map keys stay small integers (no boxing). */
function hashBits(bits: Uint32Array, from: number, to: number): number {
  let h = Math.imul(0x811c9dc5 ^ from, 0x01000193);
  for (let i = from; i < to; i++) h = Math.imul(h ^ bits[i], 0x01000193);
  return h & 0x3fffffff;
}

/** Whether `part` equals the words of `bits` from `from` on. */
function sameBits(part: Uint32Array, bits: Uint32Array, from: number): boolean {
  for (let i = 0; i < part.length; i++) if (part[i] !== bits[from + i]) return false;
  return true;
}

function intersects(a: Uint32Array, b: Uint32Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if ((a[i] & b[i]) !== 0) return true;
  return false;
}

function allZero(bits: Uint32Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bits[i] !== 0) return false;
  return true;
}

/** Plain loop: this runs on every decision (an `every` callback measured slower). */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
