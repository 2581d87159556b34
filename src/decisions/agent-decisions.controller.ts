import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { DeviceAuth } from '../auth/permissions.decorator.js';
import type { Origin } from '../audit/actor.js';
import { CurrentDevice, RequestOrigin, SourceAddress } from '../auth/principal.js';
import { ApiBodySchema, ApiQuerySchema, ValidBody, ValidQuery, ZodPipe, NoBody } from '../common/zod-validation.js';
import type { DeviceEntity } from '../devices/device.entity.js';
import { completeSchema, decideSchema, waitQuerySchema, type DecideBody } from './decisions.dto.js';
import { DecisionsService } from './decisions.service.js';
import { uuidSchema } from '../users/users.dto.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { agentAnswerSchema } from './decisions.responses.js';

const requestIdPipe = () => new ZodPipe(uuidSchema, 'request id');

/** The agent API's decision calls (agent-api.md). Any answer but a 200 allow means: do not act. */
@ApiTags('agent')
@Controller('api/v1/agent/decisions')
export class AgentDecisionsController {
  constructor(private readonly decisions: DecisionsService) {}

  @Post()
  @HttpCode(200)
  @DeviceAuth()
  @ApiOperation({
    summary: 'Ask for a decision: allow, deny or pending (recorded in the audit trail before the answer)',
  })
  @ApiBodySchema(decideSchema)
  @ApiSuccess(agentAnswerSchema, { description: 'The answer: act only on decision allow' })
  @ApiErrors([409, 'The request id was already used with another body'], [429, 'Too many requests from this device'])
  decide(
    @CurrentDevice() device: DeviceEntity,
    @ValidBody(decideSchema) body: DecideBody,
    @SourceAddress() ip: string,
  ) {
    return this.decisions.decide(device, body, ip);
  }

  @Get(':requestId')
  @DeviceAuth()
  @ApiOperation({ summary: 'The current answer; while pending waits up to `wait` seconds (max 60) for a change' })
  @ApiQuerySchema(waitQuerySchema)
  @ApiSuccess(agentAnswerSchema)
  @ApiErrors([404, 'No such request of this device'])
  get(
    @CurrentDevice() device: DeviceEntity,
    @Param('requestId', requestIdPipe()) requestId: string,
    @ValidQuery(waitQuerySchema) query: z.infer<typeof waitQuerySchema>,
  ) {
    return this.decisions.get(device, requestId, query.wait);
  }

  @Post(':requestId/cancel')
  @HttpCode(200)
  @DeviceAuth()
  @ApiOperation({ summary: 'The vendor withdrew the request: pending becomes cancelled (409 if already decided)' })
  @ApiSuccess(agentAnswerSchema)
  @ApiErrors([404, 'No such request of this device'], [409, 'Already decided'])
  cancel(
    @NoBody() _body: undefined,
    @CurrentDevice() device: DeviceEntity,
    @Param('requestId', requestIdPipe()) requestId: string,
    @RequestOrigin() origin: Origin,
  ) {
    return this.decisions.cancel(device, requestId, origin);
  }

  @Post(':requestId/complete')
  @HttpCode(200)
  @DeviceAuth()
  @ApiOperation({ summary: 'What happened after an allow (recorded in the audit trail); 409 unless allowed' })
  @ApiBodySchema(completeSchema)
  @ApiSuccess(agentAnswerSchema)
  @ApiErrors([404, 'No such request of this device'], [409, 'Not allowed, or its outcome is already reported'])
  complete(
    @CurrentDevice() device: DeviceEntity,
    @Param('requestId', requestIdPipe()) requestId: string,
    @ValidBody(completeSchema) body: z.infer<typeof completeSchema>,
    @RequestOrigin() origin: Origin,
  ) {
    return this.decisions.complete(device, requestId, body, origin);
  }
}
