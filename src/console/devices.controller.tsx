import { counted } from './plural.js';
import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AccessEndsService, mayEndAccess } from '../access/access-ends.service.js';
import { AuditSearch } from '../audit/audit-search.service.js';
import { actorOf, originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode, notFound } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import { DeviceSearch } from '../devices/device-search.js';
import { deviceIdSchema } from '../devices/devices.dto.js';
import { DevicesService } from '../devices/devices.service.js';
import { PolicyService } from '../policies/policy.service.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { DevicePage } from './pages/device-page.js';
import { DevicesPage, parseRevoked } from './pages/devices-page.js';
import { endAccessForm, parseForm } from './forms.js';

const PAGE_SIZE = 50;
const HISTORY_SIZE = 50;

const listQuery = z.strictObject({
  q: z.string().trim().max(200).default(''),
  group: z.string().trim().max(100).default(''),
  state: z.enum(['', 'in-use', 'idle', 'unknown']).default(''),
  lastSeen: z.enum(['', 'hour', 'day', 'stale', 'never']).default(''),
  revoked: z.enum(['no', 'yes', 'all']).default('no'),
  after: deviceIdSchema.optional(),
});

const NOTICES: Record<string, string> = {
  revoked: 'The device was revoked: its credential no longer works.',
  'nothing-live': 'Nothing was live on this device: nothing was ended.',
};

/** The administrator's device registry: list, one device, revoke, reset (the API's services). */
@ConsoleController()
@Controller('devices')
export class ConsoleDevicesController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly search: DeviceSearch,
    private readonly devices: DevicesService,
    private readonly audit: AuditSearch,
    private readonly policies: PolicyService,
    private readonly requests: DecisionRequests,
    private readonly ends: AccessEndsService,
  ) {}

  @Get()
  @ConsolePage('read', 'Device')
  async list(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const parsed = listQuery.safeParse(request.query ?? {});
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the filters', zodDetails(parsed.error));
    const { after, ...filters } = parsed.data;
    const { items, nextCursor } = await this.search.search(staff, {
      text: filters.q || undefined,
      group: filters.group || undefined,
      state: filters.state || undefined,
      lastSeen: filters.lastSeen || undefined,
      revoked: parseRevoked(filters.revoked),
      after,
      limit: PAGE_SIZE,
    });
    const groups = (this.policies.set?.deviceGroups ?? []).map((g) => g.name).sort();
    return this.renderer.send(
      reply,
      <DevicesPage
        ctx={this.renderer.context(request)}
        filters={filters}
        groups={groups}
        devices={items}
        nextCursor={nextCursor}
      />,
    );
  }

  @Get(':deviceId')
  @ConsolePage('read', 'Device')
  async device(
    @Staff() staff: StaffPrincipal,
    @Param('deviceId') deviceId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const device = await this.inScope(staff, deviceId, 'read');
    const [requests, audit] = await Promise.all([
      this.requests.latestOfDevice(deviceId, HISTORY_SIZE),
      this.audit.search({ deviceId, sort: 'newest', limit: HISTORY_SIZE }),
    ]);
    const { done, ended } = request.query as Record<string, unknown>;
    const notice =
      done === 'ended'
        ? `Ended ${counted(Number(ended) || 0, 'live access', 'live accesses')}: the agent has been told to stop.`
        : typeof done === 'string'
          ? NOTICES[done]
          : undefined;
    return this.renderer.send(
      reply,
      <DevicePage
        ctx={this.renderer.context(request)}
        device={device}
        requests={requests}
        audit={audit.items}
        notice={notice}
        mayEnd={mayEndAccess(staff, device.groups)}
      />,
    );
  }

  /** "End every live access" (the API's service and check): the page says how many, or that nothing was live. */
  @Post(':deviceId/end-access')
  @ConsolePage('decide', 'Approval')
  async endAccess(
    @Staff() staff: StaffPrincipal,
    @Param('deviceId') deviceId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!deviceIdSchema.safeParse(deviceId).success) throw notFound('Device');
    const { reason } = parseForm(endAccessForm, request);
    const { ended } = await this.ends.endDevice(staff, deviceId, reason, actorOf(staff, originOf(request)));
    const id = encodeURIComponent(deviceId);
    return this.renderer.redirect(
      reply,
      ended.length === 0 ? `/devices/${id}?done=nothing-live` : `/devices/${id}?done=ended&ended=${ended.length}`,
    );
  }

  @Post(':deviceId/revoke')
  @ConsolePage('manage', 'Device')
  revoke(
    @Staff() staff: StaffPrincipal,
    @Param('deviceId') deviceId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.change(staff, deviceId, request, reply, 'revoke');
  }

  @Post(':deviceId/reset')
  @ConsolePage('manage', 'Device')
  reset(
    @Staff() staff: StaffPrincipal,
    @Param('deviceId') deviceId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.change(staff, deviceId, request, reply, 'reset');
  }

  /** The device, if the id has a device id's shape and the device is in the caller's scope for `action`; else 404. */
  private async inScope(staff: StaffPrincipal, deviceId: string, action: 'read' | 'manage') {
    if (!deviceIdSchema.safeParse(deviceId).success) throw notFound('Device');
    return this.devices.getInScope(staff, deviceId, action);
  }

  /**
   * Revoke or reset through the API's service, as the person. After a reset the enrollment is
   * gone, so the list (filtered to the device) is where the person lands; after a revoke, its page.
   */
  private async change(
    staff: StaffPrincipal,
    deviceId: string,
    request: FastifyRequest,
    reply: FastifyReply,
    change: 'revoke' | 'reset',
  ) {
    await this.inScope(staff, deviceId, 'manage');
    const actor = actorOf(staff, originOf(request));
    const id = encodeURIComponent(deviceId);
    if (change === 'revoke') {
      await this.devices.revoke(deviceId, actor);
      return this.renderer.redirect(reply, `/devices/${id}?done=revoked`);
    }
    await this.devices.reset(deviceId, actor);
    return this.renderer.redirect(reply, `/devices?q=${id}&revoked=all`);
  }
}
