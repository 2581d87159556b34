import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { actorEvent, type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { ApiError, conflict, ErrorCode, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { NotificationBus } from '../database/notification-bus.js';
import { ConsoleRuleEntity } from './console-rule.entity.js';
import { PolicyService } from './policy.service.js';

const CONSOLE_RULES_LOCK_KEY = 0x636f_6e73; // "cons"

type RuleBody = Record<string, unknown> & { id: string };

/**
 * Rules written in the console. A change is accepted only when the whole set (files and
 * console rules) still validates; it is stored and audited, then the set is reloaded.
 */
@Injectable()
export class ConsoleRulesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: PolicyService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly bus: NotificationBus,
  ) {}

  list(): Promise<ConsoleRuleEntity[]> {
    return this.dataSource.getRepository(ConsoleRuleEntity).find({ order: { id: 'ASC' } });
  }

  create(rule: RuleBody, actor: Actor) {
    return this.change('created', rule.id, rule, actor);
  }

  replace(id: string, rule: RuleBody, actor: Actor) {
    if (rule.id !== id)
      throw new ApiError(ErrorCode.InvalidRequest, `The rule's id '${rule.id}' differs from '${id}' in the path`);
    return this.change('updated', id, rule, actor);
  }

  remove(id: string, actor: Actor) {
    return this.change('deleted', id, null, actor);
  }

  private async change(kind: 'created' | 'updated' | 'deleted', id: string, rule: RuleBody | null, actor: Actor) {
    await this.dataSource.transaction(async (m) => {
      // One console change at a time, so each is validated against the rules it replaces.
      await m.query('SELECT pg_advisory_xact_lock($1)', [CONSOLE_RULES_LOCK_KEY]);
      const current = await m.query<{ id: string; rule: Record<string, unknown> }[]>(
        'SELECT id, rule FROM console_rules ORDER BY id',
      );
      const exists = current.some((r) => r.id === id);
      if (kind === 'created' && exists) throw conflict(`A console rule '${id}' already exists`);
      if (kind !== 'created' && !exists) throw notFound('Console rule');
      const next = current.filter((r) => r.id !== id);
      if (rule) next.push({ id, rule });
      const result = this.policies.load(next);
      if (!result.ok) {
        throw new ApiError(
          ErrorCode.InvalidRequest,
          'The rule does not validate (with the policy files and the other console rules)',
          result.problems.map((p) => ({ field: `${p.file}:${p.line}`, problem: p.message })),
          { status: 422 },
        );
      }
      const now = this.clock.now();
      if (kind === 'created') {
        await m.query(
          `INSERT INTO console_rules (id, rule, created_by, created_at, updated_by, updated_at) VALUES ($1, $2, $3, $4, $3, $4)`,
          [id, JSON.stringify(rule), actor.id, now],
        );
      } else if (kind === 'updated') {
        await m.query('UPDATE console_rules SET rule = $2, updated_by = $3, updated_at = $4 WHERE id = $1', [
          id,
          JSON.stringify(rule),
          actor.id,
          now,
        ]);
      } else {
        await m.query('DELETE FROM console_rules WHERE id = $1', [id]);
      }
      await this.audit.appendIn(m, actorEvent(actor, `policy.console_rule_${kind}`, { details: { ruleId: id, rule } }));
    });
    const result = await this.policies.reload(actor);
    // Other replicas read the console rules again too.
    await this.bus.publish('policy.changed', result.version).catch(() => undefined);
    return result;
  }
}
