import { counted } from './plural.js';
import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessEndsService } from '../access/access-ends.service.js';
import { GrantsService } from '../approvals/grants.service.js';
import { actorOf, originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { endEnterpriseAccessForm, parseForm } from './forms.js';
import { pageId } from './ids.js';
import { PendingCount } from './pending-count.js';
import { GrantsPage } from './pages/grants-page.js';

const NOTICES: Record<string, string> = {
  ended: 'The grant was ended: its repeats are no longer allowed.',
  'not-live': 'That grant had already ended or expired.',
  'nothing-live': 'Nothing was live: that vendor enterprise had no open session or live grant.',
};

/** Live grants, with "end now" (the grant-end service of the API), and ending a vendor's access everywhere. */
@ConsoleController()
@Controller('grants')
export class ConsoleGrantsController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly grants: GrantsService,
    private readonly ends: AccessEndsService,
    private readonly pending: PendingCount,
  ) {}

  @Get()
  @ConsolePage('read', 'Approval')
  async list(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const grants = await this.grants.list(staff, true, 200);
    const { done, ended } = request.query as Record<string, unknown>;
    const notice =
      done === 'enterprise-ended' && typeof ended === 'string' && /^\d+$/.test(ended)
        ? `Ended ${counted(Number(ended), 'live access', 'live accesses')} of that vendor enterprise; its agents are told at once or at their next heartbeat.`
        : typeof done === 'string'
          ? NOTICES[done]
          : undefined;
    return this.renderer.send(
      reply,
      <GrantsPage
        ctx={this.renderer.context(request, { pendingCount: await this.pending.of(staff) })}
        grants={grants}
        notice={notice}
      />,
    );
  }

  @Post(':grantId/end')
  @ConsolePage('decide', 'Approval')
  async end(
    @Staff() staff: StaffPrincipal,
    @Param('grantId') grantId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    pageId(grantId, 'Grant');
    try {
      await this.grants.end(staff, grantId, actorOf(staff, originOf(request)));
    } catch (error) {
      if (error instanceof ApiError && error.code === ErrorCode.Conflict) {
        return this.renderer.redirect(reply, '/grants?done=not-live');
      }
      throw error;
    }
    return this.renderer.redirect(reply, '/grants?done=ended');
  }

  /** The API's service and permission (manage Approval: administrators of all devices). */
  @Post('end-enterprise')
  @ConsolePage('manage', 'Approval')
  async endEnterprise(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const { enterprise, reason } = parseForm(endEnterpriseAccessForm, request);
    const { ended } = await this.ends.endEnterprise(staff, enterprise, reason, actorOf(staff, originOf(request)));
    return this.renderer.redirect(
      reply,
      ended.length === 0 ? '/grants?done=nothing-live' : `/grants?done=enterprise-ended&ended=${ended.length}`,
    );
  }
}
