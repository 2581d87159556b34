import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import type { Origin } from '../audit/actor.js';
import { DeviceAuth } from '../auth/permissions.decorator.js';
import { CurrentDevice, RequestOrigin } from '../auth/principal.js';
import { ApiBodySchema, ValidBody } from '../common/zod-validation.js';
import type { DeviceEntity } from '../devices/device.entity.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { MAX_OFFLINE_DECISIONS, offlineDecisionsSchema } from './agent-policy.dto.js';
import { offlineDecisionsAcceptedSchema, signedOfflinePolicySchema } from './agent-policy.responses.js';
import { OfflineDecisionsService } from './offline-decisions.service.js';
import { OfflinePolicyService } from './offline-policy.service.js';

/** The agent API's offline policy (agent-api.md 1.1): what a device may do while Gatehouse is unreachable. */
@ApiTags('agent')
@Controller('api/v1/agent')
export class AgentPolicyController {
  constructor(
    private readonly offlinePolicies: OfflinePolicyService,
    private readonly offlineDecisions: OfflineDecisionsService,
  ) {}

  @Get('policy')
  @DeviceAuth()
  @ApiOperation({
    summary:
      "This device's offline policy: the offline: true rules that apply to it, signed, valid OFFLINE_POLICY_HOURS",
  })
  @ApiSuccess(signedOfflinePolicySchema)
  @ApiErrors([429, 'Too many requests from this device'], [503, 'No valid policy set is loaded'])
  policy(@CurrentDevice() device: DeviceEntity) {
    return this.offlinePolicies.issue(device);
  }

  @Post('offline-decisions')
  @HttpCode(200)
  @DeviceAuth()
  @ApiOperation({
    summary: `Upload decisions taken offline (at most ${MAX_OFFLINE_DECISIONS}); each audited once, flagged unless its policy allowed it`,
  })
  @ApiBodySchema(offlineDecisionsSchema)
  @ApiSuccess(offlineDecisionsAcceptedSchema)
  @ApiErrors([429, 'Too many requests from this device'])
  async upload(
    @CurrentDevice() device: DeviceEntity,
    @ValidBody(offlineDecisionsSchema) body: z.infer<typeof offlineDecisionsSchema>,
    @RequestOrigin() origin: Origin,
  ) {
    return { accepted: await this.offlineDecisions.upload(device, body.decisions, origin) };
  }
}
