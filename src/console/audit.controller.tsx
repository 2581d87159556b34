import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuditSearch } from '../audit/audit-search.service.js';
import { AuditService } from '../audit/audit.service.js';
import { AuditCheckpointsService } from '../audit/audit-checkpoints.service.js';
import { AuditIntegrityService } from '../audit/audit-integrity.service.js';
import { AuditStory } from '../audit/audit-story.js';
import { Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { pageId } from './ids.js';
import { instantOfLocalTime } from './local-time.js';
import { AuditPage } from './pages/audit-page.js';
import { nextPageHref } from './pages/parts.js';
import { ChainPage } from './pages/chain-page.js';
import { RequestStoryPage } from './pages/request-story-page.js';

const PAGE_SIZE = 50;

const text = (max: number) => z.string().trim().max(max).default('');
const localTime = z
  .string()
  .trim()
  .regex(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})?$/, { error: 'expected a date and time' })
  .default('');
const trailQuery = z.strictObject({
  from: localTime,
  to: localTime,
  deviceId: text(128),
  remoteUser: text(256),
  actor: text(256),
  event: text(100),
  outcome: text(50),
  // Request ids are stored in lower case (users.dto uuidSchema).
  requestId: text(36).transform((s) => s.toLowerCase()),
  /** The `nextCursor` of the previous page (AuditSearch's opaque cursor). */
  cursor: z.string().max(200).optional(),
});

const orUndefined = (value: string) => (value === '' ? undefined : value);

/** The auditor's pages: the trail's search, a request's story, the chain's state. */
@ConsoleController()
@Controller('audit')
export class ConsoleAuditController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly trail: AuditSearch,
    private readonly stories: AuditStory,
    private readonly audit: AuditService,
    private readonly integrity: AuditIntegrityService,
    private readonly checkpoints: AuditCheckpointsService,
  ) {}

  @Get()
  @ConsolePage('read', 'AuditRecord')
  async search(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const parsed = trailQuery.safeParse(request.query ?? {});
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the search', zodDetails(parsed.error));
    const { cursor, ...fields } = parsed.data;
    const zone = this.renderer.timeZone;
    const instant = (local: string) => (local ? instantOfLocalTime(local, zone)?.toISOString() : undefined);
    // The same search as GET /api/v1/audit (its filters, indexes and cursor).
    const { items: records, nextCursor } = await this.trail.search({
      from: instant(fields.from),
      to: instant(fields.to),
      deviceId: orUndefined(fields.deviceId),
      remoteUser: orUndefined(fields.remoteUser),
      actor: orUndefined(fields.actor),
      eventType: orUndefined(fields.event),
      outcome: orUndefined(fields.outcome),
      requestId: orUndefined(fields.requestId),
      sort: 'newest',
      cursor,
      limit: PAGE_SIZE,
    });
    const nextHref = nextCursor === null ? null : nextPageHref('/audit', { ...fields }, { cursor: nextCursor });
    return this.renderer.send(
      reply,
      <AuditPage ctx={this.renderer.context(request)} fields={fields} records={records} nextHref={nextHref} />,
    );
  }

  @Get('chain')
  @ConsolePage('verify', 'AuditRecord')
  async chain(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const verify = (request.query as Record<string, unknown>).verify === '1';
    const [head, checkpoint, result] = await Promise.all([
      this.audit.head(),
      this.checkpoints.latest(),
      verify ? this.integrity.verify({ full: true }) : undefined,
    ]);
    const signatureValid = checkpoint ? await this.checkpoints.signatureValid(checkpoint) : false;
    return this.renderer.send(
      reply,
      <ChainPage
        ctx={this.renderer.context(request)}
        head={head}
        checkpoint={checkpoint}
        signatureValid={signatureValid}
        result={result}
      />,
    );
  }

  /**
   * The API's story (GET /api/v1/audit/requests/{id}): the same permission and scope check
   * (auditors read every story, approvers those of their devices) and the same reading of the trail.
   */
  @Get('requests/:requestId')
  @ConsolePage('read', 'Approval')
  async story(
    @Staff() staff: StaffPrincipal,
    @Param('requestId') requestId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    // Request ids are stored in lower case (users.dto uuidSchema).
    const story = await this.stories.of(staff, pageId(requestId, 'Request').toLowerCase());
    return this.renderer.send(reply, <RequestStoryPage ctx={this.renderer.context(request)} story={story} />);
  }
}
