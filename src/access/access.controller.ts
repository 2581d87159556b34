import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Origin } from '../audit/actor.js';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { actorOf, RequestOrigin, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiBodySchema, ValidBody, ZodPipe } from '../common/zod-validation.js';
import { deviceIdSchema } from '../devices/devices.dto.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { uuidSchema } from '../users/users.dto.js';
import {
  endAccessSchema,
  endEnterpriseAccessSchema,
  type EndAccessBody,
  type EndEnterpriseAccessBody,
} from './access.dto.js';
import { AccessEndsService } from './access-ends.service.js';
import { accessEndedSchema } from './access.responses.js';

/**
 * "End now" (admin-api.md fixed points, issue 14): withdraw live accesses. The device's
 * agent hears it at its next heartbeat (`end`), at once if it long-polls the request.
 */
@ApiTags('access')
@Controller('api/v1')
export class AccessController {
  constructor(private readonly ends: AccessEndsService) {}

  @Post('access/end')
  @HttpCode(200)
  @RequirePermission('manage', 'Approval')
  @ApiOperation({
    summary: 'End every live access of a vendor enterprise on every device (administrators of all devices)',
  })
  @ApiBodySchema(endEnterpriseAccessSchema)
  @ApiSuccess(accessEndedSchema, { description: 'What was ended (possibly nothing)' })
  endEnterprise(
    @Staff() staff: StaffPrincipal,
    @ValidBody(endEnterpriseAccessSchema) body: EndEnterpriseAccessBody,
    @RequestOrigin() origin: Origin,
  ) {
    return this.ends.endEnterprise(staff, body.enterprise, body.reason, actorOf(staff, origin));
  }

  @Post('access/:requestId/end')
  @HttpCode(200)
  @RequirePermission('decide', 'Approval')
  @ApiOperation({
    summary: 'End a live access: the session this request allowed (not completed) and/or the grant it made',
  })
  @ApiBodySchema(endAccessSchema)
  @ApiSuccess(accessEndedSchema)
  @ApiErrors([404, 'No such request in your scope'], [409, 'Nothing of this request is live'])
  endRequest(
    @Staff() staff: StaffPrincipal,
    @Param('requestId', new ZodPipe(uuidSchema, 'request id')) requestId: string,
    @ValidBody(endAccessSchema) body: EndAccessBody,
    @RequestOrigin() origin: Origin,
  ) {
    return this.ends.endRequest(staff, requestId, body.reason, actorOf(staff, origin));
  }

  @Post('devices/:deviceId/end-access')
  @HttpCode(200)
  @RequirePermission('decide', 'Approval')
  @ApiOperation({ summary: 'End every live access of the device: its sessions not completed and its grants' })
  @ApiBodySchema(endAccessSchema)
  @ApiSuccess(accessEndedSchema, { description: 'What was ended (possibly nothing)' })
  @ApiErrors([404, 'No such device in your scope'])
  endDevice(
    @Staff() staff: StaffPrincipal,
    @Param('deviceId', new ZodPipe(deviceIdSchema, 'device id')) deviceId: string,
    @ValidBody(endAccessSchema) body: EndAccessBody,
    @RequestOrigin() origin: Origin,
  ) {
    return this.ends.endDevice(staff, deviceId, body.reason, actorOf(staff, origin));
  }
}
