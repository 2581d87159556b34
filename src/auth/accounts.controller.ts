import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Origin } from '../audit/actor.js';
import { plainText, ZodPipe, NoBody } from '../common/zod-validation.js';
import { AccountUnlock } from './account-unlock.js';
import { RequirePermission } from './permissions.decorator.js';
import { actorOf, RequestOrigin, Staff, type StaffPrincipal } from './principal.js';
import { ApiErrors, ApiNoContent } from '../openapi/api-responses.js';

@ApiTags('users')
@Controller('api/v1/users')
export class AccountsController {
  constructor(private readonly accounts: AccountUnlock) {}

  @Post(':username/unlock')
  @HttpCode(204)
  @RequirePermission('manage', 'User')
  @ApiOperation({ summary: 'Clear failed sign-ins so a locked user name can sign in again' })
  @ApiNoContent('Unlocked')
  @ApiErrors([404, 'The user name is not locked'])
  async unlock(
    @NoBody() _body: undefined,
    @Param('username', new ZodPipe(plainText(256), 'user name')) username: string,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.accounts.unlock(username, actorOf(staff, origin));
  }
}
