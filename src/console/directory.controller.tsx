import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf, originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { zodDetails } from '../common/zod-validation.js';
import { DirectorySyncService } from '../directory/directory-sync.service.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { DirectoryPage, SyncStatus } from './pages/directory-page.js';

const sinceQuery = z.object({ since: z.coerce.number().int().positive().optional() });

const syncForm = z.strictObject({ _csrf: z.string().optional(), kind: z.enum(['incremental', 'full']) });

const NOTICES: Record<string, string> = {
  started: 'The sync has started: its progress shows below.',
  running: 'A sync is already running: its progress shows below.',
  'not-configured': 'No directory is configured.',
};

/** The directory's connection and syncs (the API's DirectorySyncService). */
@ConsoleController()
@Controller('directory')
export class ConsoleDirectoryController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly sync: DirectorySyncService,
    private readonly clock: Clock,
  ) {}

  /** A bad `since` only stops the watching; the page itself is still worth showing. */
  private since(request: FastifyRequest): number | undefined {
    const parsed = sinceQuery.safeParse(request.query ?? {});
    return parsed.success ? parsed.data.since : undefined;
  }

  @Get()
  @ConsolePage('read', 'Directory')
  async page(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const done = (request.query as Record<string, unknown>).done;
    return this.renderer.send(
      reply,
      <DirectoryPage
        ctx={this.renderer.context(request)}
        status={await this.sync.status()}
        notice={typeof done === 'string' ? NOTICES[done] : undefined}
        since={this.since(request)}
      />,
    );
  }

  /** The polling fragment while a sync runs. */
  @Get('status')
  @ConsolePage('read', 'Directory')
  async status(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.renderer.send(
      reply,
      <SyncStatus ctx={this.renderer.context(request)} status={await this.sync.status()} since={this.since(request)} />,
    );
  }

  @Post('sync')
  @ConsolePage('manage', 'Directory')
  async start(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const parsed = syncForm.safeParse(request.body ?? {});
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the form', zodDetails(parsed.error));
    if (!this.sync.settings) return this.renderer.redirect(reply, '/directory?done=not-configured');
    const since = this.clock.now().getTime();
    try {
      await this.sync.start(parsed.data.kind, actorOf(staff, originOf(request)), 'console');
    } catch (error) {
      if (error instanceof ApiError && error.code === ErrorCode.Conflict) {
        return this.renderer.redirect(reply, '/directory?done=running');
      }
      throw error;
    }
    return this.renderer.redirect(reply, `/directory?done=started&since=${since}`);
  }
}
