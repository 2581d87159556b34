import { Controller, Get, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { LoginGuard } from '../auth/login.guard.js';
import { setupSchema } from '../auth/login.dto.js';
import { LoginService } from '../auth/login.service.js';
import { originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { SetupService } from '../auth/setup.service.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import type { UserEntity } from '../users/user.entity.js';
import { ConsoleController, ConsolePage, ConsolePublic } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { visibleNav } from './nav.js';
import { safeNextPath } from './next-path.js';
import { HomePage } from './pages/home-page.js';
import { SetupPage } from './pages/setup-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { clearedSessionCookie, sessionCookie } from './session-cookie.js';

const query = (request: FastifyRequest) => request.query as Record<string, unknown>;

/** Everyone's part: the start page, sign-in and sign-out, and first-run setup. */
@ConsoleController()
@Controller()
export class SessionController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly login: LoginService,
    private readonly setup: SetupService,
  ) {}

  @Get('/')
  @ConsolePage()
  home(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const first = visibleNav(staff)[0];
    if (first) return this.renderer.redirect(reply, first.href);
    return this.renderer.send(reply, HomePage({ ctx: this.renderer.context(request) }));
  }

  @Get('sign-in')
  @ConsolePublic()
  async signInForm(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (await this.setup.isSetupRequired()) return this.renderer.redirect(reply, '/setup');
    const notice = query(request).setup === 'done' ? 'The administrator was created: sign in with it.' : undefined;
    const next = safeNextPath(query(request).next);
    return this.renderer.send(reply, SignInPage({ ctx: this.renderer.context(request), next, notice }));
  }

  /** The API's sign-in path (LoginGuard): the same throttle, lock-outs, directory names and audit. */
  @Post('sign-in')
  @ConsolePublic()
  @UseGuards(LoginGuard)
  async signIn(@CurrentUser() user: UserEntity, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const { accessToken } = await this.login.issue(user, originOf(request));
    void reply.header('set-cookie', sessionCookie(accessToken, this.renderer.secureCookies));
    return this.renderer.redirect(reply, safeNextPath(query(request).next) ?? '/');
  }

  @Post('sign-out')
  @ConsolePage()
  async signOut(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.login.logout(staff.user, staff.sessionId, originOf(request));
    void reply.header('set-cookie', clearedSessionCookie(this.renderer.secureCookies));
    return this.renderer.redirect(reply, '/sign-in');
  }

  @Get('setup')
  @ConsolePublic()
  async setupForm(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!(await this.setup.isSetupRequired())) return this.renderer.redirect(reply, '/sign-in');
    return this.renderer.send(reply, SetupPage({ ctx: this.renderer.context(request) }));
  }

  @Post('setup')
  @ConsolePublic()
  async completeSetup(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    // An empty optional field is no field.
    const fields = Object.fromEntries(
      Object.entries((request.body ?? {}) as Record<string, unknown>).filter(([, v]) => v !== ''),
    );
    const parsed = setupSchema.safeParse(fields);
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the fields', zodDetails(parsed.error));
    await this.setup.completeSetup(parsed.data satisfies z.infer<typeof setupSchema>, originOf(request));
    return this.renderer.redirect(reply, '/sign-in?setup=done');
  }
}
