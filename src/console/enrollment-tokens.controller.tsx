import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf, originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { zodDetails } from '../common/zod-validation.js';
import { createEnrollmentTokenSchema } from '../devices/devices.dto.js';
import { EnrollmentTokensService } from '../devices/enrollment-tokens.service.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { EnrollmentTokensPage, type NewToken } from './pages/enrollment-tokens-page.js';
import { ShownOnce } from './shown-once.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The form's fields as the API's body: the same schema, so the same limits. */
const createForm = z
  .strictObject({
    _csrf: z.string().optional(),
    deviceGroups: z.string().max(2000).default(''),
    expiresInHours: z.coerce.number(),
    maxUses: z.coerce.number(),
  })
  .transform(({ deviceGroups, expiresInHours, maxUses }): z.input<typeof createEnrollmentTokenSchema> => ({
    deviceGroups: deviceGroups
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean),
    expiresInHours,
    maxUses,
  }))
  .pipe(createEnrollmentTokenSchema);

const NOTICES: Record<string, string> = {
  revoked: 'The token was revoked: it enrolls no more devices.',
  // After the redirect, when the secret was already shown (a reload) or is not in this process.
  created: 'The token was created. Its secret was shown once and is not shown again: revoke it if it was not copied.',
};

@ConsoleController()
@Controller('enrollment-tokens')
export class ConsoleEnrollmentTokensController {
  /** The new token's secret, from the form's answer (a redirect) to the page after it. */
  private readonly justCreated: ShownOnce<NewToken>;

  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly tokens: EnrollmentTokensService,
    clock: Clock,
  ) {
    this.justCreated = new ShownOnce(clock);
  }

  @Get()
  @ConsolePage('read', 'EnrollmentToken')
  async list(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const done = (request.query as Record<string, unknown>).done;
    const created = done === 'created' ? this.justCreated.take(staff.sessionId) : undefined;
    const notice = typeof done === 'string' && !created ? NOTICES[done] : undefined;
    const tokens = await this.tokens.list();
    return this.renderer.send(
      reply,
      <EnrollmentTokensPage ctx={this.renderer.context(request)} tokens={tokens} created={created} notice={notice} />,
    );
  }

  /**
   * Post/Redirect/Get: the secret waits in memory for this session's next page, which shows
   * it once (never in a URL or a log), so a reload neither creates a second token nor shows it again.
   */
  @Post()
  @ConsolePage('manage', 'EnrollmentToken')
  async create(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const parsed = createForm.safeParse(request.body ?? {});
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the form', zodDetails(parsed.error));
    const created = await this.tokens.create(parsed.data, actorOf(staff, originOf(request)));
    this.justCreated.put(staff.sessionId, created);
    return this.renderer.redirect(reply, '/enrollment-tokens?done=created');
  }

  @Post(':id/revoke')
  @ConsolePage('manage', 'EnrollmentToken')
  async revoke(
    @Staff() staff: StaffPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!UUID.test(id)) throw notFound('Enrollment token');
    await this.tokens.revoke(id, actorOf(staff, originOf(request)));
    return this.renderer.redirect(reply, '/enrollment-tokens?done=revoked');
  }
}
