import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { subject } from '@casl/ability';
import { z } from 'zod';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { ApiBodySchema, ValidBody } from '../common/zod-validation.js';
import { deviceIdSchema } from '../devices/devices.dto.js';
import { DevicesService, STATE_MAX_AGE_MS } from '../devices/devices.service.js';
import { PolicyService } from '../policies/policy.service.js';
import { decideSchema } from './decisions.dto.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { simulationSchema } from '../policies/policies.responses.js';
import { GrantLookup } from './grants/grant-lookup.js';

const simulateSchema = z.strictObject({
  deviceId: deviceIdSchema,
  action: decideSchema.shape.action,
  remoteUser: decideSchema.shape.remoteUser,
  target: decideSchema.shape.target,
  context: decideSchema.shape.context,
  at: z.iso.datetime({ offset: true }).optional(),
});

/**
 * "What would happen if": the decision (a live approval grant applied as decisions apply it),
 * every matching rule, and why the others did not match. Records nothing.
 */
@ApiTags('policies')
@Controller('api/v1/policies')
export class SimulationController {
  constructor(
    private readonly policies: PolicyService,
    private readonly devices: DevicesService,
    private readonly clock: Clock,
    private readonly grants: GrantLookup,
  ) {}

  @Post('simulate')
  @HttpCode(200)
  @RequirePermission('read', 'Policy')
  @ApiOperation({ summary: 'Simulate a decision for an enrolled device, now or `at` a given instant' })
  @ApiBodySchema(simulateSchema)
  @ApiSuccess(simulationSchema)
  @ApiErrors([404, 'No such enrolled device in your scope'], [503, 'No valid policy set is loaded'])
  async simulate(@ValidBody(simulateSchema) body: z.infer<typeof simulateSchema>, @Staff() staff: StaffPrincipal) {
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
      decision: grant ? 'allow' : result.decision,
      decidedBy: grant ? 'grant' : result.decidedBy,
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
