import { Injectable } from '@nestjs/common';
import { subject } from '@casl/ability';
import { z } from 'zod';
import type { StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { deviceIdSchema } from '../devices/devices.dto.js';
import { DevicesService, STATE_MAX_AGE_MS } from '../devices/devices.service.js';
import { PolicyService } from '../policies/policy.service.js';
import { decideSchema } from './decisions.dto.js';
import { GrantLookup } from '../approvals/grants/grant-lookup.js';

export const simulateSchema = z.strictObject({
  deviceId: deviceIdSchema,
  action: decideSchema.shape.action,
  remoteUser: decideSchema.shape.remoteUser,
  target: decideSchema.shape.target,
  context: decideSchema.shape.context,
  at: z.iso.datetime({ offset: true }).optional(),
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
  ) {}

  async simulate(staff: StaffPrincipal, body: SimulateInput) {
    const engine = this.policies.engine;
    if (!engine) throw new ApiError(ErrorCode.Unavailable, 'No valid policy set is loaded');
    const device = await this.devices.findEntity(body.deviceId);
    const groups = device ? this.policies.grouper!.groupsOf({ ...device, deviceId: device.id }) : null;
    if (!device || !groups || !staff.ability.can('read', subject('Device', { deviceGroups: [...groups] }) as never)) {
      throw notFound('Device');
    }
    const input = {
      action: body.action,
      remoteUser: body.remoteUser,
      target: body.target,
      context: body.context,
      device: {
        id: device.id,
        groups,
        state: device.state,
        stateReportedAt: device.stateReportedAt?.getTime() ?? null,
      },
      now: body.at ? Date.parse(body.at) : this.clock.now().getTime(),
      stateMaxAgeMs: STATE_MAX_AGE_MS,
    };
    const result = engine.decide(input);
    const explanations = engine.explain(input);
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
      errors: result.errors,
    };
  }
}
