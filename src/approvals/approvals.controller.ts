import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RequirePermission } from '../auth/permissions.decorator.js';
import type { Origin } from '../audit/actor.js';
import { actorOf, RequestOrigin, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiBodySchema, ApiQuerySchema, ValidBody, ValidQuery, ZodPipe, NoBody } from '../common/zod-validation.js';
import { uuidSchema } from '../users/users.dto.js';
import { ApprovalEvents } from './approval-events.js';
import { ApprovalQueue } from './approval-queue.js';
import {
  approveSchema,
  breakGlassSchema,
  grantsQuerySchema,
  queueQuerySchema,
  rejectSchema,
  reviewSchema,
  type ApproveBody,
  type BreakGlassBody,
  type QueueQuery,
  type RejectBody,
  type ReviewBody,
} from './approvals.dto.js';
import { ApprovalsService } from './approvals.service.js';
import { BreakGlassService } from './break-glass/break-glass.service.js';
import { GrantsService } from './grants.service.js';
import { ApiErrors, ApiEventStream, ApiSuccess } from '../openapi/api-responses.js';
import { approvalDetailSchema, approvalPageSchema, grantViewSchema } from './approvals.responses.js';

const noQuery = z.strictObject({});
const requestIdPipe = () => new ZodPipe(uuidSchema, 'request id');

/** The approvers' side of `ask` (admin-api.md). */
@ApiTags('approvals')
@Controller('api/v1')
export class ApprovalsController {
  constructor(
    private readonly queue: ApprovalQueue,
    private readonly approvals: ApprovalsService,
    private readonly grants: GrantsService,
    private readonly events: ApprovalEvents,
    private readonly breakGlass: BreakGlassService,
  ) {}

  @Get('approvals')
  @RequirePermission('read', 'Approval')
  @ApiOperation({
    summary:
      'Requests that went to approvers, in your device scope (default: pending, newest first); page with `cursor`',
  })
  @ApiQuerySchema(queueQuerySchema)
  @ApiSuccess(approvalPageSchema)
  list(@Staff() staff: StaffPrincipal, @ValidQuery(queueQuerySchema) query: QueueQuery) {
    return this.queue.list(staff, query);
  }

  @Get('approvals/events')
  @RequirePermission('read', 'Approval')
  @ApiOperation({ summary: 'Server-sent events: every change to a request in your scope (event `approval`)' })
  @ApiEventStream(
    'Event `resync` on connect (read the queue again), then `approval` for each change: data ' +
      '{requestId, status, deviceId, deviceGroups, action, remoteUser, expiresAt}',
  )
  stream(
    @Staff() staff: StaffPrincipal,
    @ValidQuery(noQuery) _query: object,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): void {
    reply.hijack();
    this.events.subscribe(staff, reply.raw, request.id);
  }

  @Get('approvals/:requestId')
  @RequirePermission('read', 'Approval')
  @ApiOperation({ summary: 'One request with everything needed to decide, its votes and its history' })
  @ApiSuccess(approvalDetailSchema)
  @ApiErrors([404, 'No such request in your scope'])
  get(@Staff() staff: StaffPrincipal, @Param('requestId', requestIdPipe()) requestId: string) {
    return this.queue.get(staff, requestId);
  }

  @Post('approvals/:requestId/approve')
  @HttpCode(200)
  @RequirePermission('decide', 'Approval')
  @ApiOperation({
    summary:
      'Approve (optionally repeats for grantMinutes ≤ the rule’s maxGrantMinutes); 403 outside scope or own request, 409 if not pending',
  })
  @ApiBodySchema(approveSchema)
  @ApiSuccess(approvalDetailSchema, { description: 'The request as it stands after your vote' })
  @ApiErrors([404, 'No such request in your scope'], [409, 'No longer pending, or you already answered'])
  async approve(
    @Staff() staff: StaffPrincipal,
    @Param('requestId', requestIdPipe()) requestId: string,
    @ValidBody(approveSchema) body: ApproveBody,
    @RequestOrigin() origin: Origin,
  ) {
    await this.approvals.approve(staff, requestId, body, actorOf(staff, origin));
    return this.queue.get(staff, requestId);
  }

  @Post('approvals/:requestId/reject')
  @HttpCode(200)
  @RequirePermission('decide', 'Approval')
  @ApiOperation({ summary: 'Reject (one rejection decides); 403 outside scope or own request, 409 if not pending' })
  @ApiBodySchema(rejectSchema)
  @ApiSuccess(approvalDetailSchema, { description: 'The request as it stands after your vote' })
  @ApiErrors([404, 'No such request in your scope'], [409, 'No longer pending, or you already answered'])
  async reject(
    @Staff() staff: StaffPrincipal,
    @Param('requestId', requestIdPipe()) requestId: string,
    @ValidBody(rejectSchema) body: RejectBody,
    @RequestOrigin() origin: Origin,
  ) {
    await this.approvals.reject(staff, requestId, body, actorOf(staff, origin));
    return this.queue.get(staff, requestId);
  }

  @Post('approvals/:requestId/break-glass')
  @HttpCode(200)
  @RequirePermission('decide', 'Approval')
  @ApiOperation({
    summary:
      'Break-glass: a member of BREAK_GLASS_GROUPS allows a pending request alone (rules with `breakGlass: true`), ' +
      'with a reason of 20+ characters; every approver is told and it needs a review. 403 outside the group or ' +
      'scope, own request, or rules without break-glass; 409 if not pending',
  })
  @ApiBodySchema(breakGlassSchema)
  @ApiSuccess(approvalDetailSchema, { description: 'The request as it stands after the break-glass' })
  @ApiErrors([404, 'No such request in your scope'], [409, 'No longer pending'])
  async breakGlassAllow(
    @Staff() staff: StaffPrincipal,
    @Param('requestId', requestIdPipe()) requestId: string,
    @ValidBody(breakGlassSchema) body: BreakGlassBody,
    @RequestOrigin() origin: Origin,
  ) {
    await this.breakGlass.breakGlass(staff, requestId, body, actorOf(staff, origin));
    return this.queue.get(staff, requestId);
  }

  @Post('approvals/:requestId/review')
  @HttpCode(200)
  @RequirePermission('decide', 'Approval')
  @ApiOperation({
    summary:
      'Review a break-glass allow: another approver of the request accepts it or raises an incident, with a ' +
      'comment; 403 for the break-glass person or non-approvers, 409 if reviewed already',
  })
  @ApiBodySchema(reviewSchema)
  @ApiSuccess(approvalDetailSchema, { description: 'The request as it stands after the review' })
  @ApiErrors([404, 'No such request in your scope, or no break-glass on it'], [409, 'Reviewed already'])
  async review(
    @Staff() staff: StaffPrincipal,
    @Param('requestId', requestIdPipe()) requestId: string,
    @ValidBody(reviewSchema) body: ReviewBody,
    @RequestOrigin() origin: Origin,
  ) {
    await this.breakGlass.review(staff, requestId, body, actorOf(staff, origin));
    return this.queue.get(staff, requestId);
  }

  @Get('grants')
  @RequirePermission('read', 'Approval')
  @ApiOperation({ summary: '"Approve for N minutes" grants in your scope (live only unless live=false)' })
  @ApiQuerySchema(grantsQuerySchema)
  @ApiSuccess(z.array(grantViewSchema))
  listGrants(@Staff() staff: StaffPrincipal, @ValidQuery(grantsQuerySchema) q: z.infer<typeof grantsQuerySchema>) {
    return this.grants.list(staff, q.live === 'true', q.limit);
  }

  @Post('grants/:grantId/end')
  @HttpCode(200)
  @RequirePermission('decide', 'Approval')
  @ApiOperation({ summary: 'End a grant early: repeats are no longer allowed by it (409 if not live)' })
  @ApiSuccess(grantViewSchema)
  @ApiErrors([404, 'No such grant in your scope'], [409, 'The grant is not live'])
  endGrant(
    @NoBody() _body: undefined,
    @Staff() staff: StaffPrincipal,
    @Param('grantId', new ZodPipe(uuidSchema, 'grant id')) grantId: string,
    @RequestOrigin() origin: Origin,
  ) {
    return this.grants.end(staff, grantId, actorOf(staff, origin));
  }
}
