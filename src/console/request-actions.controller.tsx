import { Controller, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AccessEndsService } from '../access/access-ends.service.js';
import { breakGlassSchema, reviewSchema } from '../approvals/approvals.dto.js';
import { BreakGlassService } from '../approvals/break-glass/break-glass.service.js';
import { actorOf, originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { CSRF_FIELD, endAccessForm, parseForm } from './forms.js';
import { pageId } from './ids.js';
import { RequestPageView } from './request-page-view.js';

/** The notices of a request's page after these forms (`?done=`). */
export const FIELD_NOTICES: Record<string, string> = {
  ended: 'Access ended: the agent has been told to stop, and repeats under its grant are refused.',
  'nothing-live': 'Nothing was live: this request has no session or grant left to end.',
  'break-glass':
    'You broke the glass: the request is allowed. Every approver has been notified, and another approver must review it.',
  reviewed: 'Your review was recorded.',
  'review-conflict': 'That break-glass had already been reviewed.',
};

const breakGlassForm = z.strictObject({
  ...CSRF_FIELD,
  reason: z.string().default(''),
  grantMinutes: z.string().default(''),
});

const reviewForm = z.strictObject({ ...CSRF_FIELD, ...reviewSchema.shape });

/**
 * A request's field actions (issue 14): end its access now, break the glass, review a
 * break-glass. Each calls the API's own service with the API's body schema, as the person
 * (audited with this HTTP request's id), so that the page and the API refuse alike.
 */
@ConsoleController()
@Controller('approvals')
export class ConsoleRequestActionsController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly ends: AccessEndsService,
    private readonly breakGlass: BreakGlassService,
    private readonly page: RequestPageView,
  ) {}

  @Post(':requestId/end-access')
  @ConsolePage('decide', 'Approval')
  async endAccess(
    @Staff() staff: StaffPrincipal,
    @Param('requestId') requestId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    pageId(requestId, 'Request');
    const { reason } = parseForm(endAccessForm, request);
    const done = await onConflict(
      () => this.ends.endRequest(staff, requestId, reason, actorOf(staff, originOf(request))),
      'ended',
      'nothing-live',
    );
    return this.renderer.redirect(reply, `/approvals/${requestId}?done=${done}`);
  }

  @Post(':requestId/break-glass')
  @ConsolePage('decide', 'Approval')
  async breakGlassAllow(
    @Staff() staff: StaffPrincipal,
    @Param('requestId') requestId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    pageId(requestId, 'Request');
    const form = parseForm(breakGlassForm, request);
    const attempt = { reason: form.reason, grantMinutes: form.grantMinutes };
    // The API's schema (reason of 20+ characters, minutes in range); a refusal shows the form again.
    const body = breakGlassSchema.safeParse({
      reason: form.reason,
      ...(form.grantMinutes.trim() === '' ? {} : { grantMinutes: Number(form.grantMinutes) }),
    });
    const again = (problems: string[]) =>
      this.page.send(staff, requestId, request, reply, { breakGlass: { ...attempt, problems }, status: 400 });
    if (!body.success) return again(zodDetails(body.error).map((d) => `${d.field ?? 'form'}: ${d.problem}`));
    let done: string;
    try {
      done = await onConflict(
        () => this.breakGlass.breakGlass(staff, requestId, body.data, actorOf(staff, originOf(request))),
        'break-glass',
        'conflict',
      );
    } catch (error) {
      // The rules' own bounds (maxGrantMinutes) are checked by the service.
      if (error instanceof ApiError && error.code === ErrorCode.InvalidRequest) return again([error.message]);
      throw error;
    }
    return this.renderer.redirect(reply, `/approvals/${requestId}?done=${done}`);
  }

  @Post(':requestId/review')
  @ConsolePage('decide', 'Approval')
  async review(
    @Staff() staff: StaffPrincipal,
    @Param('requestId') requestId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    pageId(requestId, 'Request');
    const { verdict, comment } = parseForm(reviewForm, request);
    const done = await onConflict(
      () => this.breakGlass.review(staff, requestId, { verdict, comment }, actorOf(staff, originOf(request))),
      'reviewed',
      'review-conflict',
    );
    return this.renderer.redirect(reply, `/approvals/${requestId}?done=${done}`);
  }
}

/** `ok` when the call succeeds, `conflicted` on a 409 (a stale page or a double tap: the page says what happened). */
async function onConflict(call: () => Promise<unknown>, ok: string, conflicted: string): Promise<string> {
  try {
    await call();
    return ok;
  } catch (error) {
    if (error instanceof ApiError && error.code === ErrorCode.Conflict) return conflicted;
    throw error;
  }
}
