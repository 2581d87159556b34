import { Injectable } from '@nestjs/common';
import type { DecisionRequestEntity } from '../decisions/decision-request.entity.js';
import { PolicyService } from '../policies/policy.service.js';
import type { PolicyRule } from '../policies/policy.types.js';
import { compileWhen, type CompiledWhen } from '../policies/time-window.js';

/**
 * Whether the time window that allowed a session has closed, read from the rules in
 * force now (a rule since removed, or one without time conditions, never closes it).
 */
@Injectable()
export class SessionWindows {
  /** Compiled per rule object: a new policy set brings new objects, so nothing goes stale. */
  private readonly compiled = new WeakMap<PolicyRule, CompiledWhen | null>();

  constructor(private readonly policies: PolicyService) {}

  /** True when every rule that decided the request had a time condition and each has ended since it was allowed. */
  closed(request: DecisionRequestEntity, now: Date): boolean {
    const rules = this.policies.set?.rules;
    if (!rules || request.ruleIds.length === 0) return false;
    for (const id of request.ruleIds) {
      const rule = rules.find((r) => r.id === id);
      const when = rule ? this.whenOf(rule) : null;
      if (!when) return false;
      // The end of the window the request was allowed in (or the request's own instant if it was not in one).
      const end = when.windowEnd(request.createdAt.getTime());
      if (end === null || end > now.getTime()) return false;
    }
    return true;
  }

  private whenOf(rule: PolicyRule): CompiledWhen | null {
    let when = this.compiled.get(rule);
    if (when === undefined) {
      const w = rule.when;
      when = w && (w.windows || w.dates || w.validFrom || w.validUntil) ? compileWhen(w) : null;
      this.compiled.set(rule, when);
    }
    return when;
  }
}
