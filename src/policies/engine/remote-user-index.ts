import type { CompiledRule } from './compiled-rule.js';
import type { DecisionInput } from './decision.types.js';
import { GlobBits, or } from './glob-bits.js';

/** Bound on the enterprise and group names remembered (they come from vendors' clouds). */
const MAX_CACHED_NAMES = 10_000;

/**
 * The `remoteUsers` part of every rule as bitsets (bit k = rule k, in policy order): which
 * rules leave enterprise, user id or groups open, and which rules each glob admits. The
 * rules a remote user may match are then enterprise AND user AND groups, a few word
 * operations, with the same result as CompiledRule.remoteUserMismatch() rule by rule.
 */
export class RemoteUserIndex {
  readonly words: number;
  private readonly anyEnterprise: Uint32Array;
  private readonly anyUser: Uint32Array;
  private readonly anyGroup: Uint32Array;
  private readonly enterpriseGlobs: GlobBits;
  private readonly userGlobs: GlobBits;
  private readonly groupGlobs: GlobBits;
  /** Per enterprise, and per group name: the rules that admit it (computed once each). */
  private readonly byEnterprise = new Map<string, Uint32Array>();
  private readonly byGroup = new Map<string, Uint32Array>();
  private readonly scratch: Uint32Array;

  constructor(rules: readonly CompiledRule[]) {
    this.words = Math.max(1, Math.ceil(rules.length / 32));
    const words = this.words;
    [this.anyEnterprise, this.anyUser, this.anyGroup, this.scratch] = [0, 1, 2, 3].map(() => new Uint32Array(words));
    [this.enterpriseGlobs, this.userGlobs, this.groupGlobs] = [0, 1, 2].map(() => new GlobBits(words));
    rules.forEach((rule, k) => {
      const users = rule.rule.remoteUsers;
      const dimensions: [string[] | undefined, Uint32Array, GlobBits][] = [
        [users?.enterprises, this.anyEnterprise, this.enterpriseGlobs],
        [users?.users, this.anyUser, this.userGlobs],
        [users?.groups, this.anyGroup, this.groupGlobs],
      ];
      for (const [globs, any, bits] of dimensions) {
        if (globs === undefined) any[k >>> 5] |= 1 << (k & 31);
        else for (const glob of globs) bits.add(glob, k);
      }
    });
  }

  /** Writes into `out` (`words` long) the rules whose remoteUsers conditions the user meets. */
  applicable(user: DecisionInput['remoteUser'], out: Uint32Array): void {
    // A rule naming enterprises never matches a user without one (as anyMatch in compiled-rule.ts).
    out.set(
      user.enterprise === undefined
        ? this.anyEnterprise
        : this.cached(this.byEnterprise, user.enterprise, this.anyEnterprise, this.enterpriseGlobs),
    );

    const ids = this.scratch;
    ids.set(this.anyUser);
    this.userGlobs.orMatches(user.id, ids);
    and(out, ids);

    const groups = this.scratch;
    groups.set(this.anyGroup);
    for (const name of user.groups ?? []) or(groups, this.cached(this.byGroup, name, undefined, this.groupGlobs));
    and(out, groups);
  }

  /**
   * Compiles the globs, and works out now the rules of each enterprise and group the rules
   * name, rather than on the first request of each one's first user.
   */
  warmUp(): void {
    for (const globs of [this.enterpriseGlobs, this.userGlobs, this.groupGlobs]) globs.warmUp();
    for (const name of this.enterpriseGlobs.literalNames()) {
      this.cached(this.byEnterprise, name, this.anyEnterprise, this.enterpriseGlobs);
    }
    for (const name of this.groupGlobs.literalNames()) this.cached(this.byGroup, name, undefined, this.groupGlobs);
  }

  /** The rules whose globs admit `name` (plus `open` ones), remembered per name. */
  private cached(cache: Map<string, Uint32Array>, name: string, open: Uint32Array | undefined, globs: GlobBits) {
    let bits = cache.get(name);
    if (bits === undefined) {
      bits = open === undefined ? new Uint32Array(this.words) : Uint32Array.from(open);
      globs.orMatches(name, bits);
      if (cache.size >= MAX_CACHED_NAMES) cache.clear(); // bounded memory
      cache.set(name, bits);
    }
    return bits;
  }
}

function and(out: Uint32Array, bits: Uint32Array): void {
  for (let i = 0; i < out.length; i++) out[i] &= bits[i];
}
