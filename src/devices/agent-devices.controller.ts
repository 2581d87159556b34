import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { bearerToken } from '../auth/access.guard.js';
import { DeviceAuth, EnrollmentAuth } from '../auth/permissions.decorator.js';
import { CurrentDevice, originOf } from '../auth/principal.js';
import { ApiBodySchema, ValidBody } from '../common/zod-validation.js';
import type { DeviceEntity } from './device.entity.js';
import { enrollSchema, heartbeatSchema } from './devices.dto.js';
import { DevicesService } from './devices.service.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { enrolledSchema, heartbeatAnswerSchema } from './devices.responses.js';

/** The agent API's device calls (agent-api.md): enrollment and heartbeat. */
@ApiTags('agent')
@Controller('api/v1/agent')
export class AgentDevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Post('enroll')
  @HttpCode(201)
  @EnrollmentAuth()
  @ApiOperation({ summary: "Enroll a device with an enrollment token; returns the device's credential, once" })
  @ApiBodySchema(enrollSchema)
  @ApiSuccess(enrolledSchema, { status: 201, description: 'Enrolled' })
  @ApiErrors([409, 'The device is already enrolled: an administrator must reset it first'])
  enroll(@Req() request: FastifyRequest, @ValidBody(enrollSchema) body: z.infer<typeof enrollSchema>) {
    return this.devices.enroll(bearerToken(request)!, body, originOf(request));
  }

  @Post('heartbeat')
  @HttpCode(200)
  @DeviceAuth()
  @ApiOperation({ summary: 'Report agent version and device state (state feeds policy conditions)' })
  @ApiBodySchema(heartbeatSchema)
  @ApiSuccess(heartbeatAnswerSchema)
  heartbeat(@CurrentDevice() device: DeviceEntity, @ValidBody(heartbeatSchema) body: z.infer<typeof heartbeatSchema>) {
    return this.devices.heartbeat(device, body);
  }
}
