import { Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { subject } from '@casl/ability';
import { z } from 'zod';
import { RequirePermission } from '../auth/permissions.decorator.js';
import type { Origin } from '../audit/actor.js';
import { actorOf, RequestOrigin, Staff, type StaffPrincipal } from '../auth/principal.js';
import { forbidden } from '../common/api-error.js';
import { ApiBodySchema, ValidBody, ZodPipe, NoBody } from '../common/zod-validation.js';
import { uuidSchema } from '../users/users.dto.js';
import { createEnrollmentTokenSchema, deviceIdSchema, updateDeviceSchema } from './devices.dto.js';
import { DevicesService, type DeviceView } from './devices.service.js';
import { EnrollmentTokensService } from './enrollment-tokens.service.js';
import { ApiErrors, ApiNoContent, ApiSuccess } from '../openapi/api-responses.js';
import { createdEnrollmentTokenSchema, deviceViewSchema, enrollmentTokenViewSchema } from './devices.responses.js';

/** Staff side of the device registry. */
@ApiTags('devices')
@Controller('api/v1')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly tokens: EnrollmentTokensService,
  ) {}

  @Get('devices')
  @RequirePermission('read', 'Device')
  @ApiOperation({ summary: 'Devices in your scope: id, model, site, groups, last seen, reported state, revoked' })
  @ApiSuccess(z.array(deviceViewSchema))
  async list(@Staff() staff: StaffPrincipal): Promise<DeviceView[]> {
    const all = await this.devices.list();
    return all.filter((d) => staff.ability.can('read', subject('Device', { deviceGroups: d.groups }) as never));
  }

  @Patch('devices/:deviceId')
  @RequirePermission('manage', 'Device')
  @ApiOperation({ summary: "Change a device's model, site or group bound (the agent cannot change them)" })
  @ApiBodySchema(updateDeviceSchema)
  @ApiSuccess(deviceViewSchema)
  @ApiErrors([404, 'No such device in your scope'], [403, 'The change would move the device outside your scope'])
  async update(
    @Param('deviceId', new ZodPipe(deviceIdSchema, 'device id')) deviceId: string,
    @ValidBody(updateDeviceSchema) body: z.infer<typeof updateDeviceSchema>,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ): Promise<DeviceView> {
    await this.assertInScope(staff, deviceId);
    // Nor may the change move the device into groups outside the caller's scope.
    const after = await this.devices.groupsAfter(deviceId, body);
    if (!after || !staff.ability.can('manage', subject('Device', { deviceGroups: after }) as never)) throw forbidden();
    return this.devices.update(deviceId, body, actorOf(staff, origin));
  }

  @Post('devices/:deviceId/revoke')
  @HttpCode(200)
  @RequirePermission('manage', 'Device')
  @ApiOperation({ summary: 'Revoke a device: its credential stops working (401)' })
  @ApiSuccess(deviceViewSchema)
  @ApiErrors([404, 'No such device in your scope'])
  async revoke(
    @NoBody() _body: undefined,
    @Param('deviceId', new ZodPipe(deviceIdSchema, 'device id')) deviceId: string,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ): Promise<DeviceView> {
    // Scope first: a device outside the caller's scope must not be revoked (it reads as not found).
    await this.assertInScope(staff, deviceId);
    return this.devices.revoke(deviceId, actorOf(staff, origin));
  }

  @Post('devices/:deviceId/reset')
  @HttpCode(204)
  @RequirePermission('manage', 'Device')
  @ApiOperation({ summary: 'Remove the enrollment so the device can enroll again with a new token' })
  @ApiNoContent('Enrollment removed')
  @ApiErrors([404, 'No such device in your scope'])
  async reset(
    @NoBody() _body: undefined,
    @Param('deviceId', new ZodPipe(deviceIdSchema, 'device id')) deviceId: string,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.assertInScope(staff, deviceId);
    await this.devices.reset(deviceId, actorOf(staff, origin));
  }

  /** Outside the caller's scope reads as "not found", so ids cannot be probed. */
  private async assertInScope(staff: StaffPrincipal, deviceId: string): Promise<void> {
    await this.devices.getInScope(staff, deviceId, 'manage');
  }

  @Post('enrollment-tokens')
  @HttpCode(201)
  @RequirePermission('manage', 'EnrollmentToken')
  @ApiOperation({ summary: 'Create an enrollment token (shown once): {id, token, expiresAt}' })
  @ApiBodySchema(createEnrollmentTokenSchema)
  @ApiSuccess(createdEnrollmentTokenSchema, { status: 201, description: 'The token (shown once)' })
  create(
    @ValidBody(createEnrollmentTokenSchema) body: z.infer<typeof createEnrollmentTokenSchema>,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    return this.tokens.create(body, actorOf(staff, origin));
  }

  @Get('enrollment-tokens')
  @RequirePermission('read', 'EnrollmentToken')
  @ApiOperation({ summary: 'Enrollment tokens (without their secrets)' })
  @ApiSuccess(z.array(enrollmentTokenViewSchema))
  listTokens() {
    return this.tokens.list();
  }

  @Post('enrollment-tokens/:id/revoke')
  @HttpCode(200)
  @RequirePermission('manage', 'EnrollmentToken')
  @ApiOperation({ summary: 'Revoke an enrollment token' })
  @ApiSuccess(enrollmentTokenViewSchema)
  @ApiErrors([404, 'No live enrollment token with that id'])
  revokeToken(
    @NoBody() _body: undefined,
    @Param('id', new ZodPipe(uuidSchema, 'token id')) id: string,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    return this.tokens.revoke(id, actorOf(staff, origin));
  }
}
