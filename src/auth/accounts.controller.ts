import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService } from '../audit/audit.service.js';
import { notFound } from '../common/api-error.js';
import { plainText, ZodPipe } from '../common/zod-validation.js';
import { normalizeUsername } from '../users/users.service.js';
import { LoginThrottleService } from './login-throttle.service.js';
import { RequirePermission } from './permissions.decorator.js';
import { SourceAddress, Staff, type StaffPrincipal } from './principal.js';

@ApiTags('users')
@Controller('api/v1/users')
export class AccountsController {
  constructor(
    private readonly throttle: LoginThrottleService,
    private readonly audit: AuditService,
  ) {}

  @Post(':username/unlock')
  @HttpCode(204)
  @RequirePermission('manage', 'User')
  @ApiOperation({ summary: 'Clear failed sign-ins so a locked user name can sign in again' })
  async unlock(
    @Param('username', new ZodPipe(plainText(256), 'user name')) username: string,
    @Staff() staff: StaffPrincipal,
    @SourceAddress() ip: string,
  ): Promise<void> {
    const name = normalizeUsername(username);
    if (!(await this.throttle.unlock(name))) throw notFound('Locked user name');
    await this.audit.append({
      eventType: 'user.unlocked',
      actorType: 'user',
      actorId: staff.user.username,
      sourceAddress: ip,
      outcome: 'success',
      details: { username: name },
    });
  }
}
