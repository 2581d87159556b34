import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessEndsService, mayEndAccess } from '../access/access-ends.service.js';
import { ApprovalQueue, type ApprovalDetail } from '../approvals/approval-queue.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { ConsoleRenderer } from './console-renderer.js';
import { pageId } from './ids.js';
import { PendingCount } from './pending-count.js';
import type { BreakGlassAttempt } from './pages/break-glass-forms.js';
import { RequestPage } from './pages/request-page.js';

/** A request's page, as the approvals controller shows it and the break-glass form shows it again. */
@Injectable()
export class RequestPageView {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly queue: ApprovalQueue,
    private readonly pending: PendingCount,
    private readonly ends: AccessEndsService,
  ) {}

  async send(
    staff: StaffPrincipal,
    requestId: string,
    request: FastifyRequest,
    reply: FastifyReply,
    options: {
      /** What the last form did; a function when it depends on the request as it stands. */
      notice?: string | ((detail: ApprovalDetail) => string | undefined);
      breakGlass?: BreakGlassAttempt;
      status?: number;
    } = {},
  ) {
    pageId(requestId, 'Request');
    const detail = await this.queue.get(staff, requestId);
    // "End now" only where something is live, for those the API lets end it.
    const mayEnd =
      detail.status === 'approved' && mayEndAccess(staff, detail.device.groups) && (await this.ends.isLive(requestId));
    const ctx = this.renderer.context(request, { pendingCount: await this.pending.of(staff) });
    return this.renderer.send(
      reply,
      <RequestPage
        ctx={ctx}
        detail={detail}
        notice={typeof options.notice === 'function' ? options.notice(detail) : options.notice}
        mayEnd={mayEnd}
        breakGlass={options.breakGlass}
      />,
      options.status,
    );
  }
}
