import { Injectable } from '@nestjs/common';
import { subject } from '@casl/ability';
import { z } from 'zod';
import type { StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { deviceIdSchema } from '../devices/devices.dto.js';
import { DevicesService } from '../devices/devices.service.js';
import { PolicyService } from '../policies/policy.service.js';
import { decideSchema } from './decisions.dto.js';
import { engineInput } from './engine-input.js';
import { GrantLookup } from '../approvals/grants/grant-lookup.js';
import { statedItsmSchema, statedVerdicts } from '../itsm/stated-verdicts.js';
import { TicketChecks } from '../itsm/ticket-checks.js';
import { refusalBeforeAsking } from '../itsm/ticket-judgement.js';
import type { DecisionInput, TicketVerdict } from '../policies/engine/decision.types.js';
import type { PolicyEngine } from '../policies/engine/policy-engine.js';

export const simulateSchema = z.strictObject({
  deviceId: deviceIdSchema,
  action: decideSchema.shape.action,
  remoteUser: decideSchema.shape.remoteUser,
  target: decideSchema.shape.target,
  context: decideSchema.shape.context,
  at: z.iso.datetime({ offset: true }).optional(),
  itsm: statedItsmSchema
    .optional()
    .describe(
      "The ITSM's answer on the request's ticket, instead of asking it: " +
        '`{"CHG0012345": "confirmed"}`, `"refused"`, `"unavailable"`, `{"refused": "why"}` or `{"unavailable": "why"}`. ' +
        'Without an answer for the ticket, the configured ITSM (ServiceNow) is asked, as decisions ask it',
    ),
});
export type SimulateInput = z.infer<typeof simulateSchema>;

export type SimulationResult = Awaited<ReturnType<PolicySimulator['simulate']>>;

/**
 * "What would happen if": the decision, every matching rule, and why the others did not
 * match, for an enrolled device in the caller's scope, with live approval grants applied as
 * decisions apply them. Records nothing. The API's
 * POST /policies/simulate and the console's simulation page both ask here.
 */
@Injectable()
export class PolicySimulator {
  constructor(
    private readonly policies: PolicyService,
    private readonly devices: DevicesService,
    private readonly clock: Clock,
    private readonly grants: GrantLookup,
    private readonly tickets: TicketChecks,
  ) {}

  async simulate(staff: StaffPrincipal, body: SimulateInput) {
    const engine = this.policies.engine;
    if (!engine) throw new ApiError(ErrorCode.Unavailable, 'No valid policy set is loaded');
    const device = await this.devices.findEntity(body.deviceId);
    const groups = device ? this.policies.grouper!.groupsOf({ ...device, deviceId: device.id }) : null;
    if (!device || !groups || !staff.ability.can('read', subject('Device', { deviceGroups: [...groups] }) as never)) {
      throw notFound('Device');
    }
    const otherTicket = Object.keys(body.itsm ?? {}).find((t) => t !== body.context?.ticket);
    if (otherTicket !== undefined) {
      // An answer that no ticket of the request uses would silently change nothing.
      throw new ApiError(
        ErrorCode.InvalidRequest,
        `itsm: an answer for ticket ${otherTicket}, but the request's ticket (context.ticket) is ` +
          `${body.context?.ticket ?? 'not given'}: state the answer for the request's ticket`,
      );
    }
    const input = engineInput(device, groups, body, body.at ? Date.parse(body.at) : this.clock.now().getTime());
    const tickets = await this.ticketVerdicts(engine, input, body);
    const result = engine.decide({ ...input, ticketVerdicts: tickets?.verdicts });
    const verdictOf = (ruleId: string) => tickets?.verdicts.get(ruleId);
    // A rule that matches but for its ticket: refused, it does not match; unavailable, it acts as onUnavailable.
    const explanations = engine.explain(input).map((e) => {
      const verdict = verdictOf(e.ruleId);
      if (!e.matches || !verdict || verdict.kind === 'confirmed') return e;
      if (verdict.kind === 'refused') return { ...e, matches: false, reason: `ticket: ${verdict.reason}` };
      const rule = engine.set.rules.find((r) => r.id === e.ruleId);
      return { ...e, effect: rule?.ticket?.onUnavailable ?? 'deny' };
    });
    // As decisions do: a repeat of a request approved "for N minutes" is allowed by that grant.
    const grant =
      result.decision === 'pending'
        ? await this.grants.find(
            { deviceId: device.id, action: body.action, remoteUserId: body.remoteUser.id, target: body.target },
            new Date(input.now),
          )
        : null;
    return {
      decision: grant ? ('allow' as const) : result.decision,
      decidedBy: grant ? ('grant' as const) : result.decidedBy,
      grant: grant ? { id: grant.id, requestId: grant.requestId, expiresAt: grant.expiresAt.toISOString() } : null,
      policies: result.ruleIds,
      approval: result.approval ?? null,
      policyVersion: engine.version,
      deviceGroups: [...groups].sort(),
      matching: explanations.filter((e) => e.matches).map((e) => ({ ruleId: e.ruleId, effect: e.effect })),
      notMatching: explanations
        .filter((e) => !e.matches)
        .map((e) => ({ ruleId: e.ruleId, effect: e.effect, reason: e.reason })),
      tickets: tickets && {
        ticket: body.context?.ticket ?? null,
        source: tickets.source,
        verdicts: [...tickets.verdicts].map(([ruleId, v]) => ({
          ruleId,
          verdict: v.kind,
          reason: v.kind === 'confirmed' ? null : v.reason,
        })),
      },
      errors: result.errors,
    };
  }

  /**
   * The verdicts on the ticket for the rules that check it: the stated answer (`itsm`), else
   * the configured ITSM's, asked live as decisions ask it (at the simulated instant); `none`
   * when there was nothing to ask (no ticket, or not a ServiceNow number). Null when no rule
   * that would match checks a ticket.
   */
  private async ticketVerdicts(
    engine: PolicyEngine,
    input: DecisionInput,
    body: SimulateInput,
  ): Promise<{ source: 'stated' | 'itsm' | 'none'; verdicts: ReadonlyMap<string, TicketVerdict> } | null> {
    const rules = engine.ticketChecksFor(input);
    if (rules.length === 0) return null;
    const ticket = body.context?.ticket;
    // No ticket, or not a ServiceNow number: refused without asking anyone, as decisions refuse it.
    if (refusalBeforeAsking(ticket)) return { source: 'none', verdicts: statedVerdicts(rules, ticket, {}).verdicts };
    const stated = statedVerdicts(rules, ticket, body.itsm);
    if (stated.missing === undefined) return { source: 'stated', verdicts: stated.verdicts };
    const live = await this.tickets.verdicts(rules, ticket, input.device.id, new Date(input.now));
    return { source: 'itsm', verdicts: live };
  }
}
