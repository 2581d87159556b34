import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiBodySchema, ValidBody, NoBody } from '../common/zod-validation.js';
import type { UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { CurrentUser } from './current-user.decorator.js';
import { LoginGuard } from './login.guard.js';
import { loginSchema, setupSchema } from './login.dto.js';
import { LoginService, type LoginResult } from './login.service.js';
import { Public, SignedIn } from './permissions.decorator.js';
import type { Origin } from '../audit/actor.js';
import { RequestOrigin, Staff, type StaffPrincipal } from './principal.js';
import { SetupService } from './setup.service.js';
import type { z } from 'zod';
import { ApiErrors, ApiNoContent, ApiSuccess } from '../openapi/api-responses.js';
import { loginResultSchema, meSchema, setupDoneSchema, setupStatusSchema } from './auth.responses.js';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly login: LoginService,
    private readonly setup: SetupService,
    private readonly users: UsersService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @UseGuards(LoginGuard)
  @ApiOperation({
    summary: 'Sign in with a local or directory account (user, user@domain or DOMAIN\\user); returns a bearer token',
  })
  @ApiBodySchema(loginSchema)
  @ApiSuccess(loginResultSchema)
  @ApiErrors([401, 'Wrong user name or password, or the account is disabled'], 429)
  signIn(@CurrentUser() user: UserEntity, @RequestOrigin() origin: Origin): Promise<LoginResult> {
    return this.login.issue(user, origin);
  }

  @Post('logout')
  @HttpCode(204)
  @SignedIn()
  @ApiOperation({ summary: 'End this session: the token stops working' })
  @ApiNoContent('Signed out')
  async signOut(
    @NoBody() _body: undefined,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.login.logout(staff.user, staff.sessionId, origin);
  }

  @Get('me')
  @SignedIn()
  @ApiOperation({
    summary:
      'Who is signed in (local or directory user), with their roles and the groups (local or directory) that give them',
  })
  @ApiSuccess(meSchema)
  async me(@Staff() staff: StaffPrincipal) {
    return {
      username: staff.user.username,
      displayName: staff.user.displayName,
      source: staff.user.source,
      groups: await this.users.groupsOf(staff.user.id),
      roles: staff.roleBindings.map((b) => ({ role: b.role, devices: b.devices, via: b.via, from: b.from })),
    };
  }

  @Get('setup')
  @Public()
  @ApiOperation({ summary: 'Whether the first administrator still has to be created' })
  @ApiSuccess(setupStatusSchema)
  async setupStatus(): Promise<{ setupRequired: boolean }> {
    return { setupRequired: await this.setup.isSetupRequired() };
  }

  @Post('setup')
  @HttpCode(201)
  @Public()
  @ApiOperation({ summary: 'Create the first administrator with the one-time setup token printed at first start' })
  @ApiBodySchema(setupSchema)
  @ApiSuccess(setupDoneSchema, { status: 201, description: 'The administrator was created' })
  @ApiErrors([403, 'Wrong setup token, or setup is already done'])
  async completeSetup(
    @ValidBody(setupSchema) body: z.infer<typeof setupSchema>,
    @RequestOrigin() origin: Origin,
  ): Promise<{ username: string }> {
    await this.setup.completeSetup(body, origin);
    return { username: body.username.toLowerCase() };
  }
}
