import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApprovalEvents } from '../approvals/approval-events.js';
import { ApprovalQueue } from '../approvals/approval-queue.js';
import { ApprovalsService } from '../approvals/approvals.service.js';
import { COMMENT_MAX, MAX_GRANT_MINUTES } from '../approvals/approvals.dto.js';
import { actorOf, originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { freeText, zodDetails } from '../common/zod-validation.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { pageId } from './ids.js';
import { INBOX_SIZE, PendingCount } from './pending-count.js';
import { InboxList, InboxPage } from './pages/inbox-page.js';
import { decidedBy } from './pages/request-page.js';
import { RequestPageView } from './request-page-view.js';
import { FIELD_NOTICES } from './request-actions.controller.js';

const decisionForm = z.strictObject({
  _csrf: z.string().optional(),
  comment: z.union([z.literal('').transform(() => undefined), freeText(COMMENT_MAX)]).optional(),
  grantMinutes: z.coerce.number().int().min(1).max(MAX_GRANT_MINUTES).optional(),
});

const NOTICES: Record<string, string> = {
  approved: 'You approved this request.',
  rejected: 'You rejected this request.',
  ...FIELD_NOTICES,
};

/** The approver's part: the live inbox, a request's page, and the decision. */
@ConsoleController()
@Controller('approvals')
export class ConsoleApprovalsController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly queue: ApprovalQueue,
    private readonly approvals: ApprovalsService,
    private readonly events: ApprovalEvents,
    private readonly pending: PendingCount,
    private readonly page: RequestPageView,
  ) {}

  /** The inbox: the whole page, or (for htmx, after an event) the list alone. */
  @Get()
  @ConsolePage('read', 'Approval')
  async inbox(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const [{ items, nextCursor }, review] = await Promise.all([
      this.queue.list(staff, { status: 'pending', sort: 'createdAt', order: 'desc', limit: INBOX_SIZE }),
      // Break-glass allows no other approver has reviewed yet: no longer pending, still to look at.
      this.queue.list(staff, {
        status: 'all',
        needsReview: 'true',
        sort: 'createdAt',
        order: 'desc',
        limit: INBOX_SIZE,
      }),
    ]);
    const more = nextCursor !== null;
    const pendingCount = items.length === 0 ? '' : `${items.length}${more ? '+' : ''}`;
    const ctx = this.renderer.context(request, { pendingCount });
    const lists = { items, more, toReview: review.items };
    if (this.renderer.isFragmentRequest(request)) {
      return this.renderer.send(reply, <InboxList ctx={ctx} {...lists} oob={true} />);
    }
    return this.renderer.send(reply, <InboxPage ctx={ctx} {...lists} />);
  }

  /** The approvals event stream (the API's), on the console's session: any change re-reads the list. */
  @Get('live')
  @ConsolePage('read', 'Approval')
  live(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    reply.hijack();
    this.events.subscribe(staff, reply.raw, request.id);
  }

  @Get(':requestId')
  @ConsolePage('read', 'Approval')
  async request(
    @Staff() staff: StaffPrincipal,
    @Param('requestId') requestId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const done = (request.query as Record<string, unknown>).done;
    return this.page.send(staff, requestId, request, reply, {
      notice: (detail) => {
        if (done !== 'conflict') return typeof done === 'string' ? NOTICES[done] : undefined;
        return detail.status === 'pending' ? 'You have already answered this request.' : decidedBy(detail);
      },
    });
  }

  @Post(':requestId/approve')
  @ConsolePage('decide', 'Approval')
  approve(
    @Staff() staff: StaffPrincipal,
    @Param('requestId') requestId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.decide(staff, requestId, request, reply, 'approved');
  }

  @Post(':requestId/reject')
  @ConsolePage('decide', 'Approval')
  reject(
    @Staff() staff: StaffPrincipal,
    @Param('requestId') requestId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.decide(staff, requestId, request, reply, 'rejected');
  }

  /**
   * The API's own service, audited as the person with this HTTP request's id. A double tap
   * or a stale page (409) lands on the request's page, which says who decided it.
   */
  private async decide(
    staff: StaffPrincipal,
    requestId: string,
    request: FastifyRequest,
    reply: FastifyReply,
    outcome: 'approved' | 'rejected',
  ) {
    pageId(requestId, 'Request');
    const parsed = decisionForm.safeParse(request.body ?? {});
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the form', zodDetails(parsed.error));
    const { comment, grantMinutes } = parsed.data;
    const actor = actorOf(staff, originOf(request));
    const page = `/approvals/${requestId}`;
    try {
      if (outcome === 'approved') await this.approvals.approve(staff, requestId, { comment, grantMinutes }, actor);
      else await this.approvals.reject(staff, requestId, { comment }, actor);
    } catch (error) {
      if (error instanceof ApiError && error.code === ErrorCode.Conflict) {
        return this.renderer.redirect(reply, `${page}?done=conflict`);
      }
      throw error;
    }
    return this.renderer.redirect(reply, `${page}?done=${outcome}`);
  }
}
