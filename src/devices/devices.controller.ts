import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { subject } from '@casl/ability';
import type { z } from 'zod';
import { RequirePermission } from '../auth/permissions.decorator.js';
import type { Origin } from '../audit/actor.js';
import { actorOf, RequestOrigin, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiBodySchema, ValidBody, ZodPipe } from '../common/zod-validation.js';
import { uuidSchema } from '../users/users.dto.js';
import { createEnrollmentTokenSchema, deviceIdSchema } from './devices.dto.js';
import { DevicesService, type DeviceView } from './devices.service.js';
import { EnrollmentTokensService } from './enrollment-tokens.service.js';

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
  async list(@Staff() staff: StaffPrincipal): Promise<DeviceView[]> {
    const all = await this.devices.list();
    return all.filter((d) => staff.ability.can('read', subject('Device', { deviceGroups: d.groups }) as never));
  }

  @Post('devices/:deviceId/revoke')
  @HttpCode(200)
  @RequirePermission('manage', 'Device')
  @ApiOperation({ summary: 'Revoke a device: its credential stops working (401)' })
  async revoke(
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
  async reset(
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
  listTokens() {
    return this.tokens.list();
  }

  @Post('enrollment-tokens/:id/revoke')
  @HttpCode(200)
  @RequirePermission('manage', 'EnrollmentToken')
  @ApiOperation({ summary: 'Revoke an enrollment token' })
  revokeToken(
    @Param('id', new ZodPipe(uuidSchema, 'token id')) id: string,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    return this.tokens.revoke(id, actorOf(staff, origin));
  }
}
